// The GPTQ LinearMethod: validates the spec, asks for the Hessian, runs gptq_quantize (gptq.cpp).
#include <memory>

#include "compress/quant/gptq.h"
#include "compress/quant/quant_methods.h"
#include "compress/quant/spec_check.h"
#include "core/error.h"

namespace lmp {

namespace {

class GptqMethod : public LinearMethod {
 public:
  explicit GptqMethod(const MethodSpec& s) : spec_(s) {}
  std::string name() const override { return "gptq"; }
  uint32_t needs() const override { return kStatHessian; }
  CompressedLinear compress(const std::string& name, const Tensor& weight,
                            const LinearStats& stats) const override {
    return quantize(name, weight, stats, Tensor());
  }
  Kind produces() const override { return Kind::Quantized; }
  // The inverse-Hessian factor (f64, narrowed in place to f32: compress/inverse_hessian.h); the working
  // weight, which becomes the dequantized result (f32), and the codes.
  double scratch_bytes(int64_t out, int64_t in) const override {
    return double(in) * double(in) * 8 + double(out) * double(in) * (4 + 1);
  }
  bool accepts(Kind prev) const override { return prev == Kind::Dense || prev == Kind::Sparse; }
  // After a pruner: the sweep holds the pruned weights at 0 (gptq.h).
  CompressedLinear compress_after(const std::string& name, const CompressedLinear& prev,
                                  const LinearStats& stats) const override {
    if (prev.kind != Kind::Sparse) return LinearMethod::compress_after(name, prev, stats);
    return quantize(name, prev.weight, stats, prev.mask);
  }
  CompressedLinear compress_consuming(const std::string& name, const CompressedLinear& prev,
                                      LinearStats&& stats) const override {
    if (prev.kind != Kind::Sparse && prev.kind != Kind::Dense) return compress_after(name, prev, stats);
    check_weight("gptq", name, prev.weight);
    return gptq_quantize(name, prev.weight, std::move(stats), options(), prev.mask);
  }
  double handover_bytes(int64_t in) const override { return double(in) * double(in) * 8; }

 private:
  CompressedLinear quantize(const std::string& name, const Tensor& weight, const LinearStats& stats,
                            const Tensor& mask) const {
    check_weight("gptq", name, weight);
    return gptq_quantize(name, weight, stats, options(), mask);
  }

  GptqOptions options() const {
    GptqOptions opt;
    opt.cfg = quant_config(spec_);
    opt.group = spec_.group;
    opt.act_order = spec_.act_order;
    opt.static_groups = spec_.static_groups;
    opt.damp = spec_.damp;
    opt.block_size = spec_.block_size;
    return opt;
  }

  MethodSpec spec_;
};

}  // namespace

std::unique_ptr<LinearMethod> make_gptq_method(const MethodSpec& spec) {
  check_quant_spec("gptq", spec);
  return std::make_unique<GptqMethod>(spec);
}

}  // namespace lmp
