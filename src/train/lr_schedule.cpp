#include "train/lr_schedule.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace lmp {

double WarmupCosine::factor(int64_t step) const {
  if (step < warmup) return double(step) / double(warmup);
  if (total <= warmup) return 1.0;  // no step reaches here with total > 0; the reference divides by 0
  const double progress = double(step - warmup) / double(total - warmup);
  return 0.1 + 0.9 * 0.5 * (1 + std::cos(std::numbers::pi * progress));
}

WarmupCosine warmup_cosine(int64_t epochs, int64_t batches_per_epoch) {
  LMP_CHECK(epochs >= 0 && batches_per_epoch >= 0, "lr schedule: epochs and batches per epoch must be >= 0, found ",
            epochs, " and ", batches_per_epoch);
  WarmupCosine s;
  s.total = epochs * batches_per_epoch;
  s.warmup = int64_t(0.1 * double(s.total));
  return s;
}

}  // namespace lmp
