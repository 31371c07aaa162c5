#include "train/linear_backward.h"

#include <vector>

#include "linalg/gemm.h"
#include "train/reductions.h"

namespace lmp {

void linear_backward(const float* x, int64_t rows, const Tensor& w, const float* dy, float* dx, bool accumulate,
                     float* dw, float* d_bias) {
  const int64_t out = w.dim(0), in = w.dim(1);
  gemm_tn(out, in, rows, dy, out, x, in, dw, in);
  if (d_bias) column_sums(dy, rows, out, d_bias);
  if (dx) gemm_nn(rows, in, out, dy, out, w.f32(), in, dx, in, 1.0f, accumulate ? 1.0f : 0.0f);
}

void linear_backward(const float* x, const float* xb, int64_t rows, const LowRankFactors& f, const float* dy,
                     float* dx, bool accumulate, float* da, float* db, float* d_bias) {
  const int64_t out = f.a.dim(0), rank = f.a.dim(1), in = f.b.dim(1);
  gemm_tn(out, rank, rows, dy, out, xb, rank, da, rank);
  if (d_bias) column_sums(dy, rows, out, d_bias);
  std::vector<float> dz(size_t(rows * rank));
  gemm_nn(rows, rank, out, dy, out, f.a.f32(), rank, dz.data(), rank);
  gemm_tn(rank, in, rows, dz.data(), rank, x, in, db, in);
  if (dx) gemm_nn(rows, in, rank, dz.data(), rank, f.b.f32(), in, dx, in, 1.0f, accumulate ? 1.0f : 0.0f);
}

}  // namespace lmp
