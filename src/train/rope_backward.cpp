#include "train/rope_backward.h"

#include <algorithm>

namespace lmp {

void rope_backward(const Rope& rope, float* dx, int64_t width, int64_t heads, const BatchShape& s) {
  int64_t max_pos = 0;
  for (int64_t b = 0; b < s.batch; ++b) max_pos = std::max(max_pos, s.start_of(b) + s.seq);
  rope.reserve(max_pos);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < s.rows(); ++r)
    rope.apply_inverse(dx + r * width, heads, s.start_of(r / s.seq) + r % s.seq);
}

}  // namespace lmp
