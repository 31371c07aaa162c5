// EntQuant (Putzky, Genzel et al., arXiv 2601.22787; merantix-momentum/entquant): per-row scales by the
// paper's L-BFGS (SymmetricEntropyOptimizer) or by an exact per-row search (entquant_row_search.h), then
// FP8 E4M3 codes with −0 stored as +0 (the reference's resolve_signed_zeros). λ = 0 and the linears named
// in MethodSpec::absmax_linears (super-weight layers, the reference's fallback layers) use absmax FP8.
// Scales are rounded to bf16 before the codes are chosen (--scale-dtype bf16, the default: the reference
// keeps them in the weight's dtype, bf16 for these models) or kept in f32. Deviation: the optimizer runs
// in f64 on the f32 weight (the reference: f32 on the weight's dtype).
#include "compress/quant/entquant.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "compress/quant/entquant_objective.h"
#include "compress/quant/entquant_row_search.h"
#include "compress/quant/quant_methods.h"
#include "compress/quant/spec_check.h"
#include "core/dtype.h"
#include "core/error.h"

namespace lmp {

namespace {
constexpr int kNanRetries = 20;
}

Fp8ScaleType fp8_scale_type(const std::string& name) {
  if (name == "bf16") return Fp8ScaleType::Bf16;
  LMP_CHECK(name == "f32", "entquant: --scale-dtype must be bf16 or f32, found '", name, "'");
  return Fp8ScaleType::F32;
}

namespace {

// s rounded to the nearest bf16 (ties to even); a positive s never becomes 0 (the least bf16 instead).
float bf16_scale(float s) {
  const float r = round_to_bf16(s);
  return r > 0 ? r : bf16_to_f32(1);
}

}  // namespace

CompressedLinear fp8_quantize_with_scales(const Tensor& w, std::vector<float> scales, Fp8ScaleType type) {
  const int64_t out = w.dim(0), in = w.dim(1);
  LMP_CHECK(int64_t(scales.size()) == out, "fp8: expected ", out, " scales, found ", scales.size());
  if (type == Fp8ScaleType::Bf16)
    for (float& s : scales) s = bf16_scale(s);
  Fp8Grid g;
  g.codes = Tensor::zeros(DType::U8, {out, in});
  g.scales = Tensor::from_f32({out}, scales);
  Tensor deq = Tensor::zeros(DType::F32, {out, in});
  uint8_t* codes = static_cast<uint8_t*>(g.codes.mutable_data());
  const float* src = w.f32();
  float* dst = deq.f32();
#pragma omp parallel for schedule(static) if (out * in >= (int64_t(1) << 16))
  for (int64_t r = 0; r < out; ++r) fp8_quantize_row(src + r * in, in, scales[size_t(r)], codes + r * in, dst + r * in);
  CompressedLinear c;
  c.kind = CompressedLinear::Kind::Fp8;
  c.weight = std::move(deq);
  c.fp8 = std::move(g);
  return c;
}

CompressedLinear fp8_absmax_quantize(const Tensor& w, Fp8ScaleType type) {
  const int64_t out = w.dim(0), in = w.dim(1);
  std::vector<float> scales(static_cast<size_t>(out), 1.0f);
  for (int64_t r = 0; r < out; ++r) {
    float amax = 0;
    for (int64_t j = 0; j < in; ++j) amax = std::max(amax, std::fabs(w.f32()[r * in + j]));
    if (amax > 0) scales[size_t(r)] = amax / 448.0f;
  }
  CompressedLinear c = fp8_quantize_with_scales(w, std::move(scales), type);
  c.fp8->lambda = 0;
  c.fp8->optimizer = "absmax";
  return c;
}

LbfgsOptions entquant_lbfgs_options(double lambda) {
  LbfgsOptions o;
  o.lr = lambda >= 30 ? 0.25 : 1.0;
  o.max_iter = 500;
  o.max_eval = o.max_iter * 5 / 4;
  o.history_size = 100;
  o.tolerance_grad = 1e-7;
  o.tolerance_change = 1e-9;
  o.strong_wolfe = true;
  return o;
}

std::vector<float> entquant_lbfgs_scales(const Tensor& w, double lambda) {
  const int64_t out = w.dim(0), in = w.dim(1);
  const float* src = w.f32();
  const EntquantLoss lw = entquant_loss_weights(src, out, in, lambda);
  const std::vector<double> theta0 = absmax_theta(src, out, in);
  const LbfgsObjective f = [&](const std::vector<double>& theta, std::vector<double>& grad) {
    return entquant_loss_grad(src, out, in, lw, theta, &grad);
  };
  LbfgsOptions o = entquant_lbfgs_options(lambda);
  std::vector<double> theta = theta0;
  for (int attempt = 0; attempt <= kNanRetries; ++attempt, o.lr *= 0.5) {
    theta = theta0;
    if (!lbfgs_minimize(f, theta, o).nan) break;
    theta = theta0;  // every attempt failed: keep the absmax scales
  }
  std::vector<float> scales(static_cast<size_t>(out));
  for (int64_t r = 0; r < out; ++r) {
    const float s = scale_of_theta(theta[size_t(r)]);
    scales[size_t(r)] = s > 0 && std::isfinite(s) ? s : 1.0f;
  }
  return scales;
}

CompressedLinear entquant_quantize(const Tensor& w, double lambda, const std::string& optimizer,
                                   Fp8ScaleType type) {
  if (lambda == 0) return fp8_absmax_quantize(w, type);
  const int64_t out = w.dim(0), in = w.dim(1);
  const std::vector<float> scales = optimizer == "lbfgs" ? entquant_lbfgs_scales(w, lambda)
                                                         : entquant_row_search_scales(w.f32(), out, in, lambda);
  CompressedLinear c = fp8_quantize_with_scales(w, scales, type);
  c.fp8->lambda = lambda;
  c.fp8->optimizer = optimizer;
  return c;
}

namespace {

class EntquantMethod : public LinearMethod {
 public:
  explicit EntquantMethod(const MethodSpec& s) : spec_(s), scale_type_(fp8_scale_type(s.scale_dtype)) {}
  std::string name() const override { return "entquant"; }
  uint32_t needs() const override { return kStatNone; }
  Kind produces() const override { return Kind::Fp8; }
  CompressedLinear compress(const std::string& name, const Tensor& weight, const LinearStats&) const override {
    check_weight("entquant", name, weight);
    const auto& fb = spec_.absmax_linears;
    if (std::find(fb.begin(), fb.end(), name) != fb.end()) {
      CompressedLinear c = fp8_absmax_quantize(weight, scale_type_);
      c.fp8->fallback = true;
      return c;
    }
    return entquant_quantize(weight, spec_.lambda, spec_.optimizer, scale_type_);
  }

 private:
  MethodSpec spec_;
  Fp8ScaleType scale_type_;
};

}  // namespace

std::unique_ptr<LinearMethod> make_entquant_method(const MethodSpec& spec) {
  LMP_CHECK(std::isfinite(spec.lambda) && spec.lambda >= 0, "entquant: --lambda must be finite and >= 0, found ",
            spec.lambda);
  LMP_CHECK(spec.optimizer == "row-search" || spec.optimizer == "lbfgs",
            "entquant: --optimizer must be row-search or lbfgs, found '", spec.optimizer, "'");
  return std::make_unique<EntquantMethod>(spec);
}

}  // namespace lmp
