#include "compress/lowrank/lowrank_rank.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lmp {

int64_t lowrank_rank(const std::string& method, const std::string& name, int64_t out, int64_t in, double ratio,
                     int64_t rank) {
  const int64_t full = std::min(out, in);
  if (rank > 0) {
    LMP_CHECK(rank <= full, method, ": ", name, ": --rank ", rank, " is above min(out, in) = ", full, " of its [", out,
              ", ", in, "] weight");
    return rank;
  }
  LMP_CHECK(std::isfinite(ratio) && ratio > 0 && ratio <= 1, method, ": --ratio must be in (0, 1], found ", ratio);
  if (ratio >= 1) return full;
  const int64_t k = int64_t(ratio * double(out) * double(in) / double(out + in));
  LMP_CHECK(k >= 1, method, ": ", name, ": --ratio ", ratio, " gives rank 0 for its [", out, ", ", in,
            "] weight (the least ratio with rank 1 is ", double(out + in) / (double(out) * double(in)), ")");
  return k;
}

}  // namespace lmp
