// A per-row search for EntQuant's scales on the true (rounded) objective, in place of the paper's
// straight-through L-BFGS (Putzky, Genzel et al., arXiv 2601.22787, Sec. 3). The loss is a sum of row
// terms f_r(s) = ‖Q(s)·s − W_r‖₁·inv_norm + rate_weight·‖Q(s)‖₁ (entquant_objective.h), so each row is
// minimized on its own over its one scale:
//   1. a grid θ = θ_absmax + k/16 on [θ_absmax − 2, θ_absmax + 19] (above it every code is 0), scanned
//      by whole octaves from the top, then by 1/16 octave outward from the best octave; each direction
//      stops at a point whose bound already exceeds the best loss (towards smaller s the rate term only
//      grows: rounding is monotone; towards larger s the error of the zero codes only grows), so no
//      skipped scale can beat the best grid point;
//   2. around the 2 best local minima of the grid, an exact sweep over ±1/8 octave: between the scales
//      where some |w_j|/s crosses an E4M3 value or the midpoint of two, f_r is linear in s, so visiting
//      these breakpoints in order (bucket-sorted) gives the minimum over the window in real arithmetic;
//   3. the best sweep points are re-evaluated in the real f32 arithmetic (the f32 scale at each and its
//      two neighbours), and the best value evaluated anywhere wins.
// Deviation from "exact": the minimum is exact within the windows swept, not proven global.
#pragma once
#include <cstdint>
#include <vector>

#include "compress/quant/entquant_objective.h"

namespace lmp {

struct RowScale {
  float scale = 1.0f;
  double loss = 0;  // the row's term of the loss at `scale`, as entquant_loss_of_scales computes it
};

// The scale of one row of n weights (1 for an all-zero row).
RowScale entquant_row_search(const float* w, int64_t n, const EntquantLoss& lw);

// The row-search scales of w [out, in] (row-major) for rate weight λ; rows in parallel, the result
// independent of the thread count.
std::vector<float> entquant_row_search_scales(const float* w, int64_t out, int64_t in, double lambda);

// The exact minimum of the row term over scales in [s_lo, s_hi] (real arithmetic; exposed for tests):
// the best scale found there and the row term there evaluated with f32 arithmetic.
RowScale entquant_row_sweep(const float* w, int64_t n, const EntquantLoss& lw, double s_lo, double s_hi);

}  // namespace lmp
