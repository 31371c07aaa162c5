// Backward of a linear layer, dense y = x·Wᵀ + b or factored y = (x·Bᵀ)·Aᵀ + b (W ≈ A·B, the low-rank
// form AA-SVD trains, Sinha & Fleuret, arXiv 2604.02119):
//   dense:     dW = dyᵀ·x,  dx = dy·W
//   factored:  dA = dyᵀ·z,  dz = dy·A,  dB = dzᵀ·x,  dx = dz·B   (z = x·Bᵀ, from the forward)
//   bias:      db = Σ_rows dy
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "model/block_weights.h"

namespace lmp {

// x [rows, in], w [out, in], dy [rows, out]. dw [out, in] is written; d_bias [out] is written unless
// null; dx [rows, in] is written, or added to when accumulate, or skipped when null.
void linear_backward(const float* x, int64_t rows, const Tensor& w, const float* dy, float* dx, bool accumulate,
                     float* dw, float* d_bias);

// The factored linear: xb = x·Bᵀ [rows, rank] as the forward kept it; da [out, rank] and db [rank, in]
// are written; d_bias and dx as above.
void linear_backward(const float* x, const float* xb, int64_t rows, const LowRankFactors& f, const float* dy,
                     float* dx, bool accumulate, float* da, float* db, float* d_bias);

}  // namespace lmp
