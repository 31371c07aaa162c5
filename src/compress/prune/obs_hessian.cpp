#include "compress/prune/obs_hessian.h"

#include <lapacke.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "linalg/gemm.h"

namespace lmp {

namespace {

void check_hessian(const std::string& where, const LinearStats& stats, int64_t in) {
  LMP_CHECK(int64_t(stats.hessian.size()) == in * in, where, ": Hessian: expected ", in, "x", in, " = ",
            in * in, " values, found ", stats.hessian.size());
  for (int64_t i = 0; i < in * in; ++i)
    LMP_CHECK(std::isfinite(stats.hessian[size_t(i)]), where, ": Hessian has a non-finite value ",
              stats.hessian[size_t(i)], " at [", i / in, ", ", i % in, "]: expected finite values");
}

// In place: dead diagonal entries -> 1, then the damp. Returns the dead flags.
std::vector<uint8_t> fix_diagonal(std::vector<double>& h, int64_t in, double damp) {
  std::vector<uint8_t> dead(size_t(in), 0);
  double trace = 0.0;
  for (int64_t j = 0; j < in; ++j) {
    double& d = h[size_t(j * in + j)];
    if (d == 0.0) {
      d = 1.0;
      dead[size_t(j)] = 1;
    }
    trace += d;
  }
  const double add = damp * trace / double(in);
  for (int64_t j = 0; j < in; ++j) h[size_t(j * in + j)] += add;
  return dead;
}

}  // namespace

ObsHessian obs_hessian(const std::string& method, const std::string& tensor, const LinearStats& stats,
                       int64_t in, double damp) {
  const std::string where = method + ": " + tensor;
  check_hessian(where, stats, in);
  std::vector<double> h = stats.hessian;
  ObsHessian r;
  r.in = in;
  r.dead = fix_diagonal(h, in, damp);
  // U = P·L⁻¹·P where P reverses the order and P·H·P = L·Lᵀ: then H⁻¹ = P·L⁻ᵀ·L⁻¹·P = UᵀU with U
  // upper triangular (the unique factor, positive diagonal). Reversing a row-major n×n buffer is P·H·P.
  // Two LAPACK calls (potrf, trtri) instead of potrf, potri, potrf.
  std::reverse(h.begin(), h.end());
  const lapack_int n = lapack_int(in);
  const SingleThreadedBlas one_thread;  // the same factor at any --threads
  // Row-major read as column-major is the transpose; P·H·P is symmetric, so 'L' factors it as is.
  lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', n, h.data(), n);
  // potrf stops at the first leading minor of P·H·P that is not positive: the last `info` inputs.
  LMP_CHECK(info == 0, where, ": damped Hessian is not positive definite on input columns [", in - info,
            ", ", in, "): expected positive definite; raise --damp (now ", damp, ")");
  info = LAPACKE_dtrtri(LAPACK_COL_MAJOR, 'L', 'N', n, h.data(), n);
  LMP_CHECK(info == 0, where, ": damped Hessian is singular (its Cholesky factor has a zero at input column ",
            in - info, "): expected invertible; raise --damp (now ", damp, ")");
  // Column-major L⁻¹[a][b] sits at h[b·n + a]; U[i][j] = L⁻¹[n-1-i][n-1-j] = h[n² - 1 - (j·n + i)].
  r.u.assign(size_t(in * in), 0.0f);
  const size_t last = size_t(in * in) - 1;
  for (int64_t i = 0; i < in; ++i)
    for (int64_t j = i; j < in; ++j) r.u[size_t(i * in + j)] = float(h[last - size_t(j * in + i)]);
  return r;
}

}  // namespace lmp
