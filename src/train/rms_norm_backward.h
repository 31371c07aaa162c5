// Backward of RMSNorm (Zhang & Sennrich, arXiv 1910.07467) as model/ops.h computes it:
//   y = w ⊙ x·ρ,  ρ = 1 / sqrt(mean(x²) + eps)
//   dx = ρ·g − ρ³·x·(Σ g⊙x)/n  with g = dy ⊙ w;   dw = Σ_rows dy ⊙ x·ρ.
#pragma once
#include <cstdint>

namespace lmp {

// x [rows, n] the norm's input, inv_rms [rows] its ρ (as the forward recorded it), w [n], dy [rows, n].
// dx [rows, n] is written, or added to when accumulate (a residual's gradient already there); null
// skips it. dw [n] is written.
void rms_norm_backward(const float* x, const float* inv_rms, const float* w, const float* dy, int64_t rows,
                       int64_t n, float* dx, bool accumulate, float* dw);

}  // namespace lmp
