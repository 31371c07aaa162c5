// The inverse-Hessian factor GPTQ uses: the upper Cholesky factor U of (H + damp·I)⁻¹ (UᵀU = H⁻¹).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lmp {

// Adds `damp_frac` · mean(diag H) to the diagonal of h [n, n] (row-major, f64, modified), inverts it
// through its Cholesky factor and returns the upper Cholesky factor of the inverse as f32 (the strict
// lower triangle zero). Throws naming `name` when H is not positive definite even after damping.
std::vector<float> damped_inverse_cholesky_upper(const std::string& name, std::vector<double>& h,
                                                 int64_t n, double damp_frac);

}  // namespace lmp
