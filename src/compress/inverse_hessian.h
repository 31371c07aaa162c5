// The inverse-Hessian factor of the OBS family, shared by GPTQ (Frantar et al., ICLR 2023, §4 step 3,
// "Cholesky reformulation") and SparseGPT (Frantar & Alistarh 2023, Alg. 1): dead inputs (H_jj = 0) get
// H_jj = 1, damp · mean(diag H) is added to the diagonal, and U is the upper Cholesky factor of H⁻¹
// (H⁻¹ = UᵀU), optionally of the inputs in a given order (GPTQ's act-order).
//
// Memory: one f64 n×n buffer is factorized in place and narrowed to f32 in the same allocation (its
// second half handed back to the system), so the factor costs 8·n² bytes at its peak — 6.6 GB for a
// 70B down_proj (n = 28672), where a separate f64 copy, LAPACKE's row-major transposes and an f32 result
// took three times that. The buffer is a copy of the statistics' Hessian, or the Hessian itself when
// the caller hands it over (the last linear to read those statistics).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compress/linear_stats.h"

namespace lmp {

struct InverseHessianSpec {
  double scale = 1.0;          // H = scale · Σ xᵀx (GPTQ's 2/n: it sets the weight of a dead input's 1)
  double damp = 0.01;          // fraction of mean(diag H) added to the diagonal
  std::vector<int64_t> order;  // the inputs in factor order (position → input); empty: 0, 1, …, n−1
};

class InverseHessian {
 public:
  int64_t in() const { return in_; }
  // [in, in] row-major, upper triangular (strict lower part 0), rows and columns in factor order.
  const float* u() const { return u_; }
  float u(int64_t i, int64_t j) const { return u_[i * in_ + j]; }
  // [in], by input (not factor order): 1 where H_jj was 0 (the caller zeroes those weight columns).
  const std::vector<uint8_t>& dead() const { return dead_; }

 private:
  friend InverseHessian inverse_hessian(const std::string&, std::vector<double>&&, int64_t,
                                        const InverseHessianSpec&);
  int64_t in_ = 0;
  std::vector<double> buffer_;  // its first in² × 4 bytes hold the f32 factor
  const float* u_ = nullptr;
  std::vector<uint8_t> dead_;
};

// `where` ("gptq: model.layers.0.mlp.down_proj.weight") prefixes every error: a Hessian of the wrong
// size, a non-finite entry (with its index), a matrix that is not positive definite even after damping
// (with the inputs where the factorization stopped and the damp to raise). Single-threaded BLAS: the
// same factor at any --threads.
InverseHessian inverse_hessian(const std::string& where, const LinearStats& stats, int64_t in,
                               const InverseHessianSpec& spec);
// The same from a Hessian (Σ xᵀx, [in, in]) handed over: factorized in its own buffer, no copy.
InverseHessian inverse_hessian(const std::string& where, std::vector<double>&& hessian, int64_t in,
                               const InverseHessianSpec& spec);

// diag(scale · Σ xᵀx) with dead inputs at 1: what GPTQ's act-order sorts by (damping moves every entry
// alike). Checks the Hessian's size like inverse_hessian.
std::vector<double> prepared_diagonal(const std::string& where, const LinearStats& stats, int64_t in,
                                      double scale);

}  // namespace lmp
