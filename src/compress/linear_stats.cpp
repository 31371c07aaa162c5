#include "compress/linear_stats.h"

#include <cblas.h>

#include "core/error.h"

namespace lmp {

LinearStats::LinearStats(int64_t in_features, uint32_t flags) : in(in_features) {
  if (flags & kStatHessian) hessian.assign(size_t(in * in), 0.0);
  if (flags & kStatColNorms) col_sq.assign(size_t(in), 0.0);
}

// Each batch's xᵀx is formed in f32 with BLAS (ssyrk) and added to the f64 total, so long sums stay
// accurate while the heavy part runs at single-precision GEMM speed.
void LinearStats::accumulate(const float* x, int64_t n) {
  if (n <= 0) return;
  rows += n;
  if (!hessian.empty()) {
    std::vector<float> batch(size_t(in * in), 0.0f);
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, int(in), int(n), 1.0f, x, int(in), 0.0f,
                batch.data(), int(in));
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = i; j < in; ++j) {
        const double v = double(batch[size_t(i * in + j)]);
        hessian[size_t(i * in + j)] += v;
        if (j != i) hessian[size_t(j * in + i)] += v;
      }
  }
  if (!col_sq.empty()) {
    for (int64_t r = 0; r < n; ++r) {
      const float* row = x + r * in;
      for (int64_t j = 0; j < in; ++j) col_sq[size_t(j)] += double(row[j]) * double(row[j]);
    }
  }
}

}  // namespace lmp
