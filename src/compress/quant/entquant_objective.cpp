// EntQuant's loss and its straight-through gradient (compress/quant/entquant_objective.h).
// Products are kept apart from the following subtraction (no FMA contraction) so that the values, and
// with them the chosen scales, do not depend on -march or -ffp-contract.
#pragma GCC optimize("fp-contract=off")
#include "compress/quant/entquant_objective.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

#include "core/fp8.h"

namespace lmp {

namespace {
// Fixed accumulation lanes, so the summation order is the same on every ISA: per lane, the errors of
// kBlock consecutive elements are summed in f32, then added into f64; |Q|·2^9 is an integer, summed
// exactly in i32 lanes over chunks of kChunk elements.
constexpr int kLanes = 16, kBlock = 4;
constexpr int64_t kChunk = int64_t(1) << 16;  // 2^16 / 16 · 448 · 2^9 < 2^31

template <bool kNzAbs>
void add_chunk(const float* w, int64_t n, float s, Fp8RowTerms& t) {
  double e[kLanes] = {}, z[kLanes] = {};
  int32_t r[kLanes] = {};
  const auto one = [&](int l, float x, float& fe, float& fz) {
    const float q = fp8_e4m3_round(x / s);
    const float deq = q * s;
    fe += std::fabs(deq - x);
    r[l] += int32_t(std::fabs(q) * 512.0f);
    if constexpr (kNzAbs) {
      const uint32_t keep = 0u - uint32_t(q != 0.0f);  // a mask, not a branch: the loop vectorizes
      fz += std::bit_cast<float>(std::bit_cast<uint32_t>(std::fabs(x)) & keep);
    }
  };
  int64_t j0 = 0;
  for (; j0 + kLanes * kBlock <= n; j0 += kLanes * kBlock) {
    float fe[kLanes] = {}, fz[kLanes] = {};
    for (int b = 0; b < kBlock; ++b)
      for (int l = 0; l < kLanes; ++l) one(l, w[j0 + b * kLanes + l], fe[l], fz[l]);
    for (int l = 0; l < kLanes; ++l) {
      e[l] += double(fe[l]);
      z[l] += double(fz[l]);
    }
  }
  for (int l = 0; j0 + l < n; ++l) {  // the tail, one element per lane at a time
    float fe = 0, fz = 0;
    one(l % kLanes, w[j0 + l], fe, fz);
    e[l % kLanes] += double(fe);
    z[l % kLanes] += double(fz);
  }
  for (int l = 0; l < kLanes; ++l) {
    t.err += e[l];
    t.rate += double(r[l]) * (1.0 / 512.0);
    t.nz_abs += z[l];
  }
}

template <bool kNzAbs>
Fp8RowTerms row_terms(const float* w, int64_t n, float s) {
  Fp8RowTerms t;
  for (int64_t c = 0; c < n; c += kChunk) add_chunk<kNzAbs>(w + c, std::min(kChunk, n - c), s, t);
  return t;
}
}  // namespace

Fp8RowTerms fp8_row_terms(const float* w, int64_t n, float s) { return row_terms<true>(w, n, s); }
Fp8RowTerms fp8_row_terms_no_grad(const float* w, int64_t n, float s) { return row_terms<false>(w, n, s); }

void fp8_quantize_row(const float* w, int64_t n, float s, uint8_t* codes, float* deq) {
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t c = fp8_e4m3_encode(w[j] / s);
    codes[j] = c == 0x80 ? uint8_t(0) : c;
    deq[j] = fp8_e4m3_decode(codes[j]) * s;
  }
}

double EntquantLoss::row(const Fp8RowTerms& t) const { return t.err * inv_norm + rate_weight * t.rate; }

EntquantLoss entquant_loss_weights(const float* w, int64_t out, int64_t in, double lambda) {
  double l1 = 0;
  for (int64_t r = 0; r < out; ++r) {
    double row = 0;
    for (int64_t j = 0; j < in; ++j) row += std::fabs(double(w[r * in + j]));
    l1 += row;
  }
  EntquantLoss lw;
  lw.inv_norm = 1.0 / (l1 + 1e-6);
  lw.rate_weight = 4.0 * lambda / double(out * in);
  return lw;
}

float scale_of_theta(double theta) { return float(std::exp2(theta)); }

std::vector<double> absmax_theta(const float* w, int64_t out, int64_t in) {
  std::vector<double> theta(size_t(out), 0.0);
  for (int64_t r = 0; r < out; ++r) {
    float amax = 0;
    for (int64_t j = 0; j < in; ++j) amax = std::max(amax, std::fabs(w[r * in + j]));
    if (amax > 0) theta[size_t(r)] = std::log2(double(amax / 448.0f));
  }
  return theta;
}

double entquant_loss_grad(const float* w, int64_t out, int64_t in, const EntquantLoss& lw,
                          const std::vector<double>& theta, std::vector<double>* grad) {
  std::vector<double> row_loss(static_cast<size_t>(out));
  if (grad) grad->assign(size_t(out), 0.0);
#pragma omp parallel for schedule(static) if (out * in >= (int64_t(1) << 15))
  for (int64_t r = 0; r < out; ++r) {
    const float s = scale_of_theta(theta[size_t(r)]);
    const Fp8RowTerms t = fp8_row_terms(w + r * in, in, s);
    row_loss[size_t(r)] = lw.row(t);
    if (grad)
      (*grad)[size_t(r)] = std::numbers::ln2 * (t.err * lw.inv_norm - lw.rate_weight * t.nz_abs / double(s));
  }
  double loss = 0;
  for (double l : row_loss) loss += l;
  return loss;
}

double entquant_loss_of_scales(const float* w, int64_t out, int64_t in, const EntquantLoss& lw,
                               const float* scales) {
  std::vector<double> row_loss(static_cast<size_t>(out));
#pragma omp parallel for schedule(static) if (out * in >= (int64_t(1) << 15))
  for (int64_t r = 0; r < out; ++r) row_loss[size_t(r)] = lw.row(fp8_row_terms(w + r * in, in, scales[r]));
  double loss = 0;
  for (double l : row_loss) loss += l;
  return loss;
}

}  // namespace lmp
