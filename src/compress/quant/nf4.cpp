// NF4 (Dettmers et al., "QLoRA", NeurIPS 2023, §3 NormalFloat): codes of w / absmax against the 16 NF4
// values, absmax per block of 64 consecutive weights, as bitsandbytes' quantize_4bit(quant_type="nf4").
// Deviation: a block whose absmax is 0 gets the code of 0.0 (bitsandbytes divides by zero there).
// After a pruner (recipes): the codebook holds 0.0 exactly (code 7) and pruned zeros do not move a
// block's absmax, so pruned weights code to 7 and stay 0; the result carries the mask.
#include "compress/quant/nf4.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "compress/quant/nf4_double_quant.h"
#include "compress/quant/quant_methods.h"
#include "compress/quant/spec_check.h"
#include "core/error.h"

namespace lmp {

const std::vector<float>& nf4_codebook() {
  static const std::vector<float> values = {
      -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
      -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
      0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
      0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
  return values;
}

uint8_t nf4_code(float x) {
  const std::vector<float>& v = nf4_codebook();
  uint8_t code = 0;
  for (size_t k = 0; k + 1 < v.size(); ++k)
    if (x > 0.5f * (v[k] + v[k + 1])) code = uint8_t(k + 1);
  return code;
}

CompressedLinear nf4_quantize(const Tensor& w, int64_t block, bool double_quant) {
  const int64_t n = w.numel(), n_blocks = (n + block - 1) / block;
  CodebookGrid grid;
  grid.codebook = nf4_codebook();
  grid.block = block;
  grid.codes = Tensor::zeros(DType::U8, w.shape());
  grid.absmax = Tensor::zeros(DType::F32, {n_blocks});
  const float* src = w.f32();
  uint8_t* codes = static_cast<uint8_t*>(grid.codes.mutable_data());
  float* absmax = grid.absmax.f32();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t i0 = b * block, i1 = std::min(n, i0 + block);
    float m = 0.0f;
    for (int64_t i = i0; i < i1; ++i) m = std::max(m, std::fabs(src[i]));
    absmax[b] = m;
    const float inv = m > 0 ? 1.0f / m : 0.0f;
    for (int64_t i = i0; i < i1; ++i) codes[i] = m > 0 ? nf4_code(src[i] * inv) : uint8_t(7);
  }
  if (double_quant) double_quantize_absmax(grid);
  Tensor deq = Tensor::zeros(DType::F32, w.shape());
  float* dst = deq.f32();
  for (int64_t i = 0; i < n; ++i) dst[i] = grid.codebook[codes[i]] * grid.absmax.f32()[i / block];
  CompressedLinear c;
  c.kind = CompressedLinear::Kind::Codebook;
  c.weight = std::move(deq);
  c.codebook = std::move(grid);
  return c;
}

namespace {

constexpr uint8_t kNf4Zero = 7;  // nf4_codebook()[7] == 0.0f

class Nf4Method : public LinearMethod {
 public:
  explicit Nf4Method(const MethodSpec& s) : spec_(s) {}
  std::string name() const override { return "nf4"; }
  uint32_t needs() const override { return kStatNone; }
  CompressedLinear compress(const std::string& name, const Tensor& weight,
                            const LinearStats&) const override {
    check_weight("nf4", name, weight);
    return nf4_quantize(weight, 64, spec_.double_quant);
  }
  Kind produces() const override { return Kind::Codebook; }
  bool accepts(Kind prev) const override { return prev == Kind::Dense || prev == Kind::Sparse; }
  CompressedLinear compress_after(const std::string& name, const CompressedLinear& prev,
                                  const LinearStats& stats) const override {
    if (prev.kind != Kind::Sparse) return LinearMethod::compress_after(name, prev, stats);
    CompressedLinear c = compress(name, prev.weight, stats);
    const auto* keep = static_cast<const uint8_t*>(prev.mask.data());
    const auto* codes = static_cast<const uint8_t*>(c.codebook->codes.data());
    for (int64_t i = 0; i < c.weight.numel(); ++i)
      LMP_CHECK(keep[i] || (codes[i] == kNf4Zero && c.weight.f32()[i] == 0.0f), "nf4: ", name,
                ": pruned weight at flat index ", i, " coded ", int(codes[i]), ", expected the code of 0.0 (",
                int(kNf4Zero), ")");
    c.mask = prev.mask;
    return c;
  }

 private:
  MethodSpec spec_;
};

}  // namespace

std::unique_ptr<LinearMethod> make_nf4_method(const MethodSpec& spec) {
  LMP_CHECK(spec.bits == 4, "nf4: --bits must be 4, found ", spec.bits);
  return std::make_unique<Nf4Method>(spec);
}

}  // namespace lmp
