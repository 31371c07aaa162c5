// The inverse-Hessian factor of the OBS family (SparseGPT, Frantar & Alistarh 2023, Alg. 1; the same
// preparation as GPTQ): dead inputs (H_jj = 0) get H_jj = 1, damp·mean(diag H) is added to the diagonal,
// and U is the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU). Factorized in f64, returned in f32.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compress/linear_stats.h"

namespace lmp {

struct ObsHessian {
  int64_t in = 0;
  std::vector<float> u;        // [in, in] row-major, upper triangular (strict lower part is 0)
  std::vector<uint8_t> dead;   // [in], 1 where H_jj was 0 (the caller zeroes those weight columns)
};

// `method` and `tensor` name the error; `damp` is the fraction of the mean diagonal added to it.
// Only relative sizes matter, so Σ xᵀx is used unscaled (the reference's 2/n factor cancels).
ObsHessian obs_hessian(const std::string& method, const std::string& tensor, const LinearStats& stats,
                       int64_t in, double damp);

}  // namespace lmp
