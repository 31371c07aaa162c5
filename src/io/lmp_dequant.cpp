// lmp dequantization (see lmp_dequant.h). Plain loops; a linear is decoded once per load_f32(). No FMA
// contraction: the low-rank product's multiply-adds must round the same under every -march.
#pragma GCC optimize("fp-contract=off")
#include "io/lmp_dequant.h"

#include "core/error.h"
#include "core/fp8.h"

namespace lmp {

namespace {

void dequantize_fp8(const LmpRecord& r, const LmpGrid& g, float* out) {
  const float* table = fp8_e4m3_table();
  for (int64_t row = 0; row < r.out; ++row) {
    const float s = g.scales[row];
    const uint8_t* q = g.codes + row * r.in;
    float* w = out + row * r.in;
    for (int64_t j = 0; j < r.in; ++j) w[j] = table[q[j]] * s;
  }
}

void dequantize_int(const LmpRecord& r, const LmpGrid& g, float* out) {
  const int64_t ng = r.n_groups(), width = r.group <= 0 ? r.in : r.group;
  for (int64_t row = 0; row < r.out; ++row) {
    const float* scale = g.scales + row * ng;
    const float* zero = g.zeros + row * ng;
    const uint8_t* q = g.codes + row * r.in;
    float* w = out + row * r.in;
    for (int64_t j = 0; j < r.in; ++j) {
      const int64_t k = g.g_idx ? g.g_idx[j] : j / width;
      w[j] = scale[k] * (float(q[j]) - zero[k]);  // dequantize_code(q, {scale, zero})
    }
  }
}

void dequantize_nf4(const LmpRecord& r, const LmpGrid& g, float* out) {
  const int64_t n = r.numel();
  for (int64_t i = 0; i < n; ++i) out[i] = g.codebook[g.codes[i]] * g.scales[i / r.block];
}

}  // namespace

int64_t lmp_first_bad_code(const LmpRecord& r, const uint8_t* codes) {
  const int64_t n = r.numel();
  if (r.codes == LmpCodes::Fp8E4m3) {
    for (int64_t i = 0; i < n; ++i)
      if ((codes[i] & 0x7F) == 0x7F) return i;
    return -1;
  }
  const unsigned limit = 1u << r.bits;
  for (int64_t i = 0; i < n; ++i)
    if (codes[i] >= limit) return i;
  return -1;
}

void lmp_dequantize(const LmpRecord& r, const LmpGrid& g, float* out) {
  switch (r.codes) {
    case LmpCodes::Fp8E4m3: return dequantize_fp8(r, g, out);
    case LmpCodes::Int: return dequantize_int(r, g, out);
    case LmpCodes::Nf4: return dequantize_nf4(r, g, out);
    case LmpCodes::LowRank: break;
  }
  fail("lmp: a lowrank linear has no codes to dequantize (its weight is lmp_lowrank_product of X.a and X.b)");
}

void lmp_lowrank_product(const float* a, const float* b, int64_t out, int64_t k, int64_t in, float* w) {
#pragma omp parallel for schedule(static) if (out * in * k >= (int64_t(1) << 20))
  for (int64_t r = 0; r < out; ++r) {
    float* row = w + r * in;
    for (int64_t j = 0; j < in; ++j) row[j] = 0.0f;
    for (int64_t t = 0; t < k; ++t) {
      const float s = a[r * k + t];
      const float* bt = b + t * in;
      for (int64_t j = 0; j < in; ++j) row[j] += s * bt[j];
    }
  }
}

}  // namespace lmp
