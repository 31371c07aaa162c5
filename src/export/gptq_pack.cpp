// GPTQ checkpoint packing (AutoGPTQ's `pack` layout, `checkpoint_format: gptq`): qweight int32
// [in·bits/32, out], qzeros int32 [n_groups, out·bits/32] holding zero − 1, scales f16 [n_groups, out],
// g_idx int32 [in]. The bit layout and the zero − 1 convention are io/gptq_bits.h (shared with the reader).
#include "export/gptq_pack.h"

#include <cmath>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gptq_bits.h"

namespace lmp {

namespace {

void check_layout(const std::string& name, int bits, int64_t in, int64_t out) {
  LMP_CHECK(gptq_bits_supported(bits), "gptq_pack: ", name,
            ": bits must be 2, 4 or 8 for the GPTQ format, found ", bits);
  const int64_t per = gptq_per_word(bits);
  LMP_CHECK(in % per == 0, "gptq_pack: ", name, ": input size must be a multiple of ", per, " for ",
            bits, "-bit GPTQ, found ", in);
  LMP_CHECK(out % per == 0, "gptq_pack: ", name, ": output size must be a multiple of ", per, " for ",
            bits, "-bit GPTQ, found ", out);
}

void pack_codes(const QuantGrid& g, int32_t* qw) {
  const int64_t out = g.codes.dim(0), in = g.codes.dim(1);
  const uint8_t* codes = static_cast<const uint8_t*>(g.codes.data());
  for (int64_t j = 0; j < in; ++j)
    for (int64_t r = 0; r < out; ++r)
      gptq_put_code(qw, g.bits, out, j, r, codes[r * in + j]);
}

void pack_params(const std::string& name, const QuantGrid& g, int32_t* qz, uint16_t* sc) {
  const int64_t out = g.codes.dim(0), ng = g.n_groups();
  const uint32_t mask = gptq_field_mask(g.bits);
  for (int64_t r = 0; r < out; ++r)
    for (int64_t k = 0; k < ng; ++k) {
      const float s = g.scales.f32()[r * ng + k], z = g.zeros.f32()[r * ng + k];
      sc[k * out + r] = f32_to_f16(s);
      LMP_CHECK(f16_to_f32(sc[k * out + r]) == s, "gptq_pack: ", name, ": scale [", r, ", ", k, "] = ", s,
                " is not exactly an f16 (quantize with f16 scales)");
      LMP_CHECK(z >= 0 && z <= float(mask) && z == std::floor(z), "gptq_pack: ", name, ": zero [", r, ", ",
                k, "] = ", z, ", expected an integer in [0, ", mask, "]");
      gptq_put_zero_field(qz, g.bits, out, k, r, gptq_v1_field_of_zero(uint32_t(z), g.bits));
    }
}

}  // namespace

GptqPacked gptq_pack(const std::string& name, const QuantGrid& g) {
  const int64_t out = g.codes.dim(0), in = g.codes.dim(1), ng = g.n_groups();
  check_layout(name, g.bits, in, out);
  LMP_CHECK(int64_t(g.g_idx.size()) == in, "gptq_pack: ", name, ": g_idx has ", g.g_idx.size(),
            " entries, expected ", in);
  const int64_t per = gptq_per_word(g.bits);
  GptqPacked p;
  p.bits = g.bits;
  p.group = g.group;
  p.qweight = Tensor::zeros(DType::I32, {in / per, out});
  p.qzeros = Tensor::zeros(DType::I32, {ng, out / per});
  p.scales = Tensor::zeros(DType::F16, {ng, out});
  p.g_idx = Tensor::zeros(DType::I32, {in});
  pack_codes(g, static_cast<int32_t*>(p.qweight.mutable_data()));
  pack_params(name, g, static_cast<int32_t*>(p.qzeros.mutable_data()),
              static_cast<uint16_t*>(p.scales.mutable_data()));
  int32_t* gi = static_cast<int32_t*>(p.g_idx.mutable_data());
  for (int64_t j = 0; j < in; ++j) gi[j] = g.g_idx[size_t(j)];
  return p;
}

QuantGrid gptq_unpack(const std::string& name, const GptqPacked& p, bool sym) {
  LMP_CHECK(p.qweight.dtype() == DType::I32 && p.qweight.ndim() == 2 && p.scales.dtype() == DType::F16 &&
                p.scales.ndim() == 2 && p.qzeros.dtype() == DType::I32 && p.g_idx.dtype() == DType::I32,
            "gptq_unpack: ", name, ": expected qweight/qzeros/g_idx I32 and scales F16");
  LMP_CHECK(gptq_bits_supported(p.bits), "gptq_unpack: ", name, ": bits must be 2, 4 or 8, found ", p.bits);
  const int64_t per = gptq_per_word(p.bits), out = p.qweight.dim(1), in = p.qweight.dim(0) * per;
  const int64_t ng = p.scales.dim(0);
  check_layout(name, p.bits, in, out);
  LMP_CHECK(p.scales.dim(1) == out && p.qzeros.shape() == Shape({ng, out / per}) && p.g_idx.numel() == in,
            "gptq_unpack: ", name, ": inconsistent shapes: qweight ", shape_str(p.qweight.shape()),
            ", qzeros ", shape_str(p.qzeros.shape()), ", scales ", shape_str(p.scales.shape()), ", g_idx ",
            shape_str(p.g_idx.shape()));
  QuantGrid g;
  g.bits = p.bits;
  g.group = p.group;
  g.sym = sym;
  g.codes = Tensor::zeros(DType::U8, {out, in});
  g.scales = Tensor::zeros(DType::F32, {out, ng});
  g.zeros = Tensor::zeros(DType::F32, {out, ng});
  const int32_t* qw = static_cast<const int32_t*>(p.qweight.data());
  uint8_t* codes = static_cast<uint8_t*>(g.codes.mutable_data());
  for (int64_t j = 0; j < in; ++j)
    for (int64_t r = 0; r < out; ++r)
      codes[r * in + j] = uint8_t(gptq_code(qw, p.bits, out, j, r));
  const int32_t* qz = static_cast<const int32_t*>(p.qzeros.data());
  const uint16_t* sc = static_cast<const uint16_t*>(p.scales.data());
  for (int64_t k = 0; k < ng; ++k)
    for (int64_t r = 0; r < out; ++r) {
      g.scales.f32()[r * ng + k] = f16_to_f32(sc[k * out + r]);
      g.zeros.f32()[r * ng + k] = float(gptq_v1_zero_of_field(gptq_zero_field(qz, p.bits, out, k, r), p.bits));
    }
  const int32_t* gi = static_cast<const int32_t*>(p.g_idx.data());
  g.g_idx.assign(gi, gi + in);
  for (int64_t j = 0; j < in; ++j)
    LMP_CHECK(gi[j] >= 0 && gi[j] < ng, "gptq_unpack: ", name, ": g_idx[", j, "] = ", gi[j],
              ", expected [0, ", ng, ")");
  return g;
}

int64_t gptq_zero_underflows(const QuantGrid& g) {
  int64_t n = 0;
  for (int64_t i = 0; i < g.zeros.numel(); ++i) n += g.zeros.f32()[i] == 0.0f;
  return n;
}

}  // namespace lmp
