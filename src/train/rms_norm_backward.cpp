#include "train/rms_norm_backward.h"

#include "train/reductions.h"

namespace lmp {

void rms_norm_backward(const float* x, const float* inv_rms, const float* w, const float* dy, int64_t rows,
                       int64_t n, float* dx, bool accumulate, float* dw) {
  if (dx) {
#pragma omp parallel for schedule(static) if (rows > 16)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * n;
      const float* gr = dy + r * n;
      float* dr = dx + r * n;
      double dot = 0.0;
      for (int64_t i = 0; i < n; ++i) dot += double(gr[i]) * double(w[i]) * double(xr[i]);
      const double rho = inv_rms[r];
      const double c = rho * rho * rho * dot / double(n);
      for (int64_t i = 0; i < n; ++i) {
        const float d = float(rho * double(gr[i]) * double(w[i]) - c * double(xr[i]));
        dr[i] = accumulate ? dr[i] + d : d;
      }
    }
  }
  column_sums_of_product(dy, x, inv_rms, rows, n, dw);
}

}  // namespace lmp
