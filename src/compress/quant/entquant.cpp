// EntQuant (Putzky, Genzel et al., arXiv 2601.22787; merantix-momentum/entquant): per-row scales by the
// paper's L-BFGS (SymmetricEntropyOptimizer) or by an exact per-row search (entquant_row_search.h), then
// FP8 E4M3 codes with −0 stored as +0 (the reference's resolve_signed_zeros). λ = 0 and the linears named
// in MethodSpec::absmax_linears (super-weight layers, the reference's fallback layers) use absmax FP8.
// Deviation: f32 scales and f64 optimizer state (the reference: the weight's dtype and f32).
#include "compress/quant/entquant.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "compress/quant/entquant_objective.h"
#include "compress/quant/entquant_row_search.h"
#include "compress/quant/quant_methods.h"
#include "compress/quant/spec_check.h"
#include "core/error.h"

namespace lmp {

namespace {
constexpr int kNanRetries = 20;
}

CompressedLinear fp8_quantize_with_scales(const Tensor& w, const std::vector<float>& scales) {
  const int64_t out = w.dim(0), in = w.dim(1);
  LMP_CHECK(int64_t(scales.size()) == out, "fp8: expected ", out, " scales, found ", scales.size());
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

CompressedLinear fp8_absmax_quantize(const Tensor& w) {
  const int64_t out = w.dim(0), in = w.dim(1);
  std::vector<float> scales(static_cast<size_t>(out), 1.0f);
  for (int64_t r = 0; r < out; ++r) {
    float amax = 0;
    for (int64_t j = 0; j < in; ++j) amax = std::max(amax, std::fabs(w.f32()[r * in + j]));
    if (amax > 0) scales[size_t(r)] = amax / 448.0f;
  }
  CompressedLinear c = fp8_quantize_with_scales(w, scales);
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

CompressedLinear entquant_quantize(const Tensor& w, double lambda, const std::string& optimizer) {
  if (lambda == 0) return fp8_absmax_quantize(w);
  const int64_t out = w.dim(0), in = w.dim(1);
  const std::vector<float> scales = optimizer == "lbfgs" ? entquant_lbfgs_scales(w, lambda)
                                                         : entquant_row_search_scales(w.f32(), out, in, lambda);
  CompressedLinear c = fp8_quantize_with_scales(w, scales);
  c.fp8->lambda = lambda;
  c.fp8->optimizer = optimizer;
  return c;
}

namespace {

class EntquantMethod : public LinearMethod {
 public:
  explicit EntquantMethod(const MethodSpec& s) : spec_(s) {}
  std::string name() const override { return "entquant"; }
  uint32_t needs() const override { return kStatNone; }
  Kind produces() const override { return Kind::Fp8; }
  CompressedLinear compress(const std::string& name, const Tensor& weight, const LinearStats&) const override {
    check_weight("entquant", name, weight);
    const auto& fb = spec_.absmax_linears;
    if (std::find(fb.begin(), fb.end(), name) != fb.end()) {
      CompressedLinear c = fp8_absmax_quantize(weight);
      c.fp8->fallback = true;
      return c;
    }
    return entquant_quantize(weight, spec_.lambda, spec_.optimizer);
  }

 private:
  MethodSpec spec_;
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
