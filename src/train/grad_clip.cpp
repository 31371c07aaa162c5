#include "train/grad_clip.h"

#include <cmath>

#include "core/error.h"
#include "train/reductions.h"

namespace lmp {

double clip_grad_norm(std::span<const GradSlot> grads, double max_norm) {
  LMP_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be > 0, found ", max_norm);
  double ss = 0.0;
  for (const GradSlot& s : grads) ss += sum_of_squares(s.grad, s.n);
  const double total = std::sqrt(ss);
  if (!std::isfinite(total)) return total;
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    const float c = float(coef);
    for (const GradSlot& s : grads)
      for (int64_t i = 0; i < s.n; ++i) s.grad[i] *= c;
  }
  return total;
}

}  // namespace lmp
