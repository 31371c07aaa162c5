#include "model/ops.h"

#include <algorithm>
#include <cmath>

namespace lmp {

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
#pragma omp parallel for schedule(static) if (rows > 16)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    float ss = 0.0f;
    for (int64_t i = 0; i < n; ++i) ss += xr[i] * xr[i];
    const float inv = 1.0f / std::sqrt(ss / float(n) + eps);
    for (int64_t i = 0; i < n; ++i) yr[i] = w[i] * (xr[i] * inv);
  }
}

void silu_mul(float* gate, const float* up, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add_bias(float* x, const float* b, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) x[r * n + i] += b[i];
}

void add_inplace(float* y, const float* x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

namespace {
float row_max(const float* row, int64_t n) {
  float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, row[i]);
  return mx;
}
}  // namespace

void softmax_prefix(float* row, int64_t n, int64_t width) {
  const float mx = row_max(row, n);
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    row[i] = std::exp(row[i] - mx);
    sum += row[i];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) row[i] *= inv;
  for (int64_t i = n; i < width; ++i) row[i] = 0.0f;
}

// exp in f32 (vectorized), summed in f32 over chunks of 1024 and in double across chunks: the relative
// error of the sum stays near 1e-7, far below what perplexity parity needs.
double log_sum_exp(const float* row, int64_t n) {
  const float mx = row_max(row, n);
  double total = 0.0;
  for (int64_t c = 0; c < n; c += 1024) {
    const int64_t end = std::min(n, c + 1024);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = c; i < end; ++i) sum += std::exp(row[i] - mx);
    total += double(sum);
  }
  return double(mx) + std::log(total);
}

}  // namespace lmp
