#include "export/lmp_rate.h"

#include <cmath>
#include <cstdio>

#include "compress/method_chain.h"
#include "core/error.h"
#include "core/progress.h"
#include "export/lmp_encode.h"

namespace lmp {

namespace {

std::vector<std::string> compressed_linears(const Model& model, const Recipe& recipe, bool head) {
  std::vector<std::string> names;
  for (int64_t b = 0; b < model.config().num_layers; ++b)
    for (const std::string& leaf : names::block_linears()) names.push_back(names::layer(b, leaf + ".weight"));
  if (head) names.push_back(names::lm_head());
  std::vector<std::string> kept;
  for (const std::string& n : names) {
    const std::vector<MethodSpec>* st = stages_for(recipe, n);
    if (!st) continue;
    LMP_CHECK(st->back().method == "entquant", "compress: --target-bpw needs entquant as the last stage of every "
              "compressed linear: ", n, " ends with ", st->back().method);
    kept.push_back(n);
  }
  LMP_CHECK(!kept.empty(), "compress: --target-bpw: no linear is compressed");
  return kept;
}

const Tensor& head_or_load(const Model& model, const std::string& name, Tensor& buf) {
  if (name == names::lm_head()) return model.lm_head();
  buf = model.checkpoint().load_f32(name);
  return buf;
}

}  // namespace

void set_entquant_lambda(Recipe& recipe, double lambda) {
  for_each_stage(recipe, [&](MethodSpec& s) {
    if (s.method == "entquant") s.lambda = lambda;
  });
}

double measure_lmp_bpw(const Model& model, const Recipe& recipe, double lambda, const RateOptions& o) {
  Recipe r = recipe;
  set_entquant_lambda(r, lambda);
  uint64_t bytes = 0, weights = 0;
  const LinearStats no_stats;
  for (const std::string& name : compressed_linears(model, r, o.include_head)) {
    const MethodChain chain(*stages_for(r, name), "");
    Tensor buf;
    const Tensor& w = head_or_load(model, name, buf);
    const CompressedLinear c = chain.run(name, w, no_stats);
    bytes += encode_lmp_linear(name, c, o.rans).bytes();
    weights += uint64_t(w.numel());
  }
  return double(bytes) * 8.0 / double(weights);
}

RateSearch search_lambda(const Model& model, const Recipe& recipe, const RateOptions& o) {
  LMP_CHECK(std::isfinite(o.target_bpw) && o.target_bpw > 0, "compress: --target-bpw must be > 0, found ",
            o.target_bpw);
  RateSearch s;
  Progress progress("target-bpw", o.max_trials, "trials");
  const auto trial = [&](double lambda) {
    const double bpw = measure_lmp_bpw(model, recipe, lambda, o);
    s.trials.push_back({lambda, bpw});
    progress.update(int64_t(s.trials.size()));
    if (std::fabs(bpw - o.target_bpw) < std::fabs(s.bpw - o.target_bpw) || s.trials.size() == 1) {
      s.lambda = lambda;
      s.bpw = bpw;
    }
    return bpw;
  };
  const double hi_bpw = trial(0.0), lo_bpw = trial(o.lambda_max);
  LMP_CHECK(o.target_bpw <= hi_bpw + o.tolerance && o.target_bpw >= lo_bpw - o.tolerance,
            "compress: --target-bpw ", o.target_bpw, " is outside what FP8 EntQuant reaches on this model: [",
            lo_bpw, ", ", hi_bpw, "] bits per weight (λ = ", o.lambda_max, " .. 0, measured lmp size)");
  // Bisection on log λ between λ_lo (bpw above the target) and λ_hi (below); λ = 0 is absmax, so the
  // low end starts at a small positive λ.
  double lo = 1.0 / 64, hi = o.lambda_max;
  for (int t = int(s.trials.size()); t < o.max_trials && std::fabs(s.bpw - o.target_bpw) > o.tolerance / 2; ++t) {
    const double mid = std::sqrt(lo * hi);
    (trial(mid) > o.target_bpw ? lo : hi) = mid;
  }
  progress.finish();
  LMP_CHECK(std::fabs(s.bpw - o.target_bpw) <= o.tolerance, "compress: --target-bpw ", o.target_bpw,
            ": no λ within ", o.max_trials, " trials gives it ± ", o.tolerance, " (closest: λ = ", s.lambda,
            " gives ", s.bpw, ")");
  return s;
}

}  // namespace lmp
