// Seeded randomness for the selectors: one engine (mt19937_64, fully specified by the standard) and
// a uniform integer draw by rejection, so a seed gives the same choice with every standard library.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace lmp {

using SelectRng = std::mt19937_64;

// Uniform in [0, n) (n > 0).
inline uint64_t uniform_below(SelectRng& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % n;
}

// Moves a uniform sample of min(k, v.size()) elements of `v` to its front (partial Fisher-Yates).
template <typename T>
size_t sample_to_front(std::vector<T>& v, size_t k, SelectRng& rng) {
  k = std::min(k, v.size());
  for (size_t j = 0; j < k; ++j) std::swap(v[j], v[j + uniform_below(rng, v.size() - j)]);
  return k;
}

}  // namespace lmp
