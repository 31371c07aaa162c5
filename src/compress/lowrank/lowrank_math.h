// The dense linear algebra the low-rank methods share (f64, LAPACK): a thin SVD, the damped Cholesky
// factor of a Gram matrix, a triangular inverse, and the split of a truncated SVD into two f32 factors.
// Row-major throughout; `what` names the linear in errors.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/block_weights.h"

namespace lmp {

// A = U·diag(s)·Vᵀ with U [m, r], s [r] (descending), Vᵀ [r, n], r = min(m, n).
struct ThinSvd {
  int64_t m = 0, n = 0, r = 0;
  std::vector<double> u, s, vt;
};
ThinSvd thin_svd(std::vector<double> a, int64_t m, int64_t n, const std::string& what);

// The lower Cholesky factor L (L·Lᵀ = G) of a symmetric [n, n] Gram matrix. When G is not positive
// definite, G + (1e-3 − λ_min)·I is factored instead (the AA-SVD reference's safe_cholesky); when even
// that fails, an error naming `what`, the matrix `gram_name` and λ_min.
std::vector<double> damped_cholesky(std::vector<double> g, int64_t n, const std::string& what,
                                    const std::string& gram_name);

// The inverse of a lower-triangular [n, n] matrix (lower-triangular too).
std::vector<double> lower_inverse(std::vector<double> l, int64_t n, const std::string& what);

// c [m, p] = a [m, k] · b [k, p].
std::vector<double> matmul(const std::vector<double>& a, const std::vector<double>& b, int64_t m, int64_t k,
                           int64_t p);

// The rank-k truncation of `svd` as two f32 factors with √σ on each side: A = U_k·diag(√σ_k) [m, k] and
// B = diag(√σ_k)·Vᵀ_k·right [k, n] (`right` [n, n], or the identity when empty).
LowRankFactors split_factors(const ThinSvd& svd, int64_t k, const std::vector<double>& right = {});

// The dense f32 product A·B [out, in] of two factors (io/lmp_dequant.h's lmp_lowrank_product: the same
// bits the lmp reader gives back).
Tensor factors_product(const LowRankFactors& f);

}  // namespace lmp
