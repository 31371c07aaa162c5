// Reductions a backward pass and its optimizer take over a batch (bias and norm-weight gradients, the
// loss, the gradient norm), accumulated in double in an order fixed by the sizes alone, so the bits do
// not depend on the thread count.
#pragma once
#include <cstdint>

namespace lmp {

// out[j] = Σ_r x[r, j] for x [rows, n]
void column_sums(const float* x, int64_t rows, int64_t n, float* out);
// out[j] = Σ_r a[r, j] · b[r, j] · s[r]
void column_sums_of_product(const float* a, const float* b, const float* s, int64_t rows, int64_t n, float* out);
// Σ_i x[i]²
double sum_of_squares(const float* x, int64_t n);
// Σ_i (a[i] − b[i])²
double sum_of_squared_differences(const float* a, const float* b, int64_t n);

}  // namespace lmp
