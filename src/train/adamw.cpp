#include "train/adamw.h"

#include <cmath>

#include "core/error.h"

namespace lmp {

AdamW::AdamW(AdamWOptions o) : o_(o) {
  LMP_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, "adamw: betas must lie in [0, 1), found ",
            o.beta1, ", ", o.beta2);
  LMP_CHECK(o.eps >= 0 && o.weight_decay >= 0, "adamw: eps and weight_decay must be >= 0, found ", o.eps, ", ",
            o.weight_decay);
}

void AdamW::step(std::span<const ParamSlot> params, double lr) {
  LMP_CHECK(lr >= 0, "adamw: learning rate must be >= 0, found ", lr);
  if (t_ == 0) {
    m_.resize(params.size());
    v_.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      m_[i].assign(size_t(params[i].n), 0.0f);
      v_[i].assign(size_t(params[i].n), 0.0f);
    }
  }
  LMP_CHECK(params.size() == m_.size(), "adamw: step ", t_ + 1, " got ", params.size(), " tensors, expected ",
            m_.size(), " (as on the first step)");
  for (size_t i = 0; i < params.size(); ++i)
    LMP_CHECK(params[i].n == int64_t(m_[i].size()), "adamw: step ", t_ + 1, ": tensor #", i, " has ",
              params[i].n, " values, expected ", m_[i].size());
  ++t_;
  const double bc1 = 1.0 - std::pow(o_.beta1, double(t_));
  const double bc2 = 1.0 - std::pow(o_.beta2, double(t_));
  const float decay = float(1.0 - lr * o_.weight_decay);
  const float w1 = float(1.0 - o_.beta1), b2 = float(o_.beta2), c2 = float(1.0 - o_.beta2);
  const float step_size = float(-(lr / bc1)), bc2_sqrt = float(std::sqrt(bc2)), eps = float(o_.eps);
  for (size_t i = 0; i < params.size(); ++i) {
    float* p = params[i].value;
    const float* g = params[i].grad;
    float* m = m_[i].data();
    float* v = v_[i].data();
    const int64_t n = params[i].n;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t j = 0; j < n; ++j) {
      p[j] *= decay;
      m[j] += w1 * (g[j] - m[j]);               // torch's lerp for weight < 0.5
      v[j] = v[j] * b2 + c2 * g[j] * g[j];
      const float denom = std::sqrt(v[j]) / bc2_sqrt + eps;
      p[j] += step_size * m[j] / denom;
    }
  }
}

}  // namespace lmp
