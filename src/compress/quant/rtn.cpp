// RTN: the min-max quantizer of GPTQ (Frantar et al., ICLR 2023; IST-DASLab/gptq quant.py) applied to
// groups of G consecutive input columns, as the reference's peer anchors do (its `--nearest` is per row
// only; here G = -1 gives that). No deviation.
#include "compress/quant/rtn.h"

#include <memory>

#include "compress/quant/quant_grid.h"
#include "compress/quant/quant_methods.h"
#include "compress/quant/spec_check.h"

namespace lmp {

CompressedLinear rtn_quantize(const Tensor& w, const QuantConfig& cfg, int64_t group) {
  const int64_t out = w.dim(0), in = w.dim(1), width = group_width(in, group);
  QuantGrid grid = make_quant_grid(out, in, cfg.bits, group, cfg.sym);
  Tensor deq = Tensor::zeros(DType::F32, {out, in});
  const float* src = w.f32();
  float* dst = deq.f32();
  uint8_t* codes = static_cast<uint8_t*>(grid.codes.mutable_data());
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t c0 = 0, g = 0; c0 < in; c0 += width, ++g) {
      const int64_t c1 = std::min(in, c0 + width);
      const QuantParams p = find_params(src + r * in + c0, c1 - c0, 1, cfg);
      set_grid_params(grid, r, g, p);
      for (int64_t j = c0; j < c1; ++j) {
        const float q = quantize_code(src[r * in + j], p, cfg.maxq());
        codes[r * in + j] = uint8_t(q);
        dst[r * in + j] = dequantize_code(q, p);
      }
    }
  }
  CompressedLinear c;
  c.kind = CompressedLinear::Kind::Quantized;
  c.weight = std::move(deq);
  c.quant = std::move(grid);
  return c;
}

namespace {

class RtnMethod : public LinearMethod {
 public:
  explicit RtnMethod(const MethodSpec& s) : spec_(s) {}
  std::string name() const override { return "rtn"; }
  uint32_t needs() const override { return kStatNone; }
  CompressedLinear compress(const std::string& name, const Tensor& weight,
                            const LinearStats&) const override {
    check_weight("rtn", name, weight);
    return rtn_quantize(weight, quant_config(spec_), spec_.group);
  }
  Kind produces() const override { return Kind::Quantized; }
  bool accepts(Kind prev) const override { return prev == Kind::Dense || prev == Kind::Sparse; }
  CompressedLinear compress_after(const std::string& name, const CompressedLinear& prev,
                                  const LinearStats& stats) const override {
    if (prev.kind != Kind::Sparse) return LinearMethod::compress_after(name, prev, stats);
    CompressedLinear c = compress(name, prev.weight, stats);
    keep_mask_on_grid("rtn: " + name, c, prev.mask);
    return c;
  }

 private:
  MethodSpec spec_;
};

}  // namespace

std::unique_ptr<LinearMethod> make_rtn_method(const MethodSpec& spec) {
  check_quant_spec("rtn", spec);
  return std::make_unique<RtnMethod>(spec);
}

}  // namespace lmp
