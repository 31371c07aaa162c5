#include "train/reductions.h"

#include <algorithm>
#include <vector>

namespace lmp {

namespace {

// Columns go in panels of kPanel to the threads; each panel walks every row, in order.
constexpr int64_t kPanel = 64;

template <class Term>
void reduce_columns(int64_t rows, int64_t n, float* out, Term&& term) {
#pragma omp parallel for schedule(static) if (rows * n > 65536)
  for (int64_t j0 = 0; j0 < n; j0 += kPanel) {
    const int64_t m = std::min(kPanel, n - j0);
    double acc[kPanel] = {};
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < m; ++j) acc[j] += term(r, j0 + j);
    for (int64_t j = 0; j < m; ++j) out[j0 + j] = float(acc[j]);
  }
}

// Σ_i term(i) in chunks of kChunk (summed in parallel), then the chunks' sums in order.
constexpr int64_t kChunk = 16384;

template <class Term>
double reduce_sum(int64_t n, Term&& term) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(size_t(chunks), 0.0);
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    double s = 0.0;
    for (int64_t i = c * kChunk, e = std::min(n, (c + 1) * kChunk); i < e; ++i) s += term(i);
    part[size_t(c)] = s;
  }
  double total = 0.0;
  for (const double p : part) total += p;
  return total;
}

}  // namespace

void column_sums(const float* x, int64_t rows, int64_t n, float* out) {
  reduce_columns(rows, n, out, [&](int64_t r, int64_t j) { return double(x[r * n + j]); });
}

void column_sums_of_product(const float* a, const float* b, const float* s, int64_t rows, int64_t n, float* out) {
  reduce_columns(rows, n, out, [&](int64_t r, int64_t j) {
    return double(a[r * n + j]) * double(b[r * n + j]) * double(s[r]);
  });
}

double sum_of_squares(const float* x, int64_t n) {
  return reduce_sum(n, [&](int64_t i) { return double(x[i]) * double(x[i]); });
}

double sum_of_squared_differences(const float* a, const float* b, int64_t n) {
  return reduce_sum(n, [&](int64_t i) {
    const double d = double(a[i]) - double(b[i]);
    return d * d;
  });
}

}  // namespace lmp
