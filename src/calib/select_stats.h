// What a calibration set contains, for `lmpress select --json` and docs/calibration.md: normalized
// types covered, type/token ratio, Zipf exponents, source mix.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "calib/selection.h"
#include "calib/token_types.h"

namespace lmp {

// Minus the slope of the least-squares line through (log rank, log count) of the `top` most frequent
// types with a non-zero count (all of them if fewer); 0 with fewer than two.
double zipf_exponent(const std::vector<int64_t>& counts, size_t top = 1000);

struct SetStats {
  int64_t typed_tokens = 0;   // tokens that have a normalized type
  int64_t types_covered = 0;  // distinct types among them
  double type_token_ratio = 0;
  double zipf_exponent = 0;
};
SetStats set_stats(std::span<const int32_t> ids, const TypeTable& types);

// Samples per source name ("(packed)" for packed samples, "(generated)" for generated ones, "(none)"
// for documents without a source).
std::map<std::string, int64_t> source_counts(const Selection& sel, const std::vector<std::string>& names,
                                            bool generated = false);

}  // namespace lmp
