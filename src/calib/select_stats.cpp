#include "calib/select_stats.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace lmp {

double zipf_exponent(const std::vector<int64_t>& counts, size_t top) {
  std::vector<int64_t> c;
  for (int64_t v : counts)
    if (v > 0) c.push_back(v);
  std::sort(c.begin(), c.end(), std::greater<>());
  if (c.size() > top) c.resize(top);
  if (c.size() < 2) return 0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = double(c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    const double x = std::log(double(i + 1)), y = std::log(double(c[i]));
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return -slope;
}

SetStats set_stats(std::span<const int32_t> ids, const TypeTable& types) {
  std::vector<int64_t> counts(types.num_types(), 0);
  types.count(ids, counts);
  SetStats s;
  for (int64_t v : counts) {
    s.typed_tokens += v;
    s.types_covered += v > 0;
  }
  s.type_token_ratio = s.typed_tokens ? double(s.types_covered) / double(s.typed_tokens) : 0;
  s.zipf_exponent = zipf_exponent(counts);
  return s;
}

std::map<std::string, int64_t> source_counts(const Selection& sel, const std::vector<std::string>& names, bool generated) {
  std::map<std::string, int64_t> out;
  for (size_t i = 0; i < sel.source_indices.size(); ++i) {
    const int32_t s = i < sel.sources.size() ? sel.sources[i] : -1;
    std::string name;
    if (s >= 0 && size_t(s) < names.size()) name = names[size_t(s)];
    else if (sel.source_indices[i] >= 0) name = "(none)";
    else name = generated ? "(generated)" : "(packed)";
    ++out[name];
  }
  return out;
}

}  // namespace lmp
