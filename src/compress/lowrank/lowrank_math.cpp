#include "compress/lowrank/lowrank_math.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/lmp_dequant.h"
#include "linalg/gemm.h"

namespace lmp {

ThinSvd thin_svd(std::vector<double> a, int64_t m, int64_t n, const std::string& what) {
  ThinSvd s;
  s.m = m;
  s.n = n;
  s.r = std::min(m, n);
  s.u.resize(size_t(m * s.r));
  s.s.resize(size_t(s.r));
  s.vt.resize(size_t(s.r * n));
  for (size_t i = 0; i < a.size(); ++i)
    LMP_CHECK(std::isfinite(a[i]), what, ": the matrix to factor has a non-finite value at [", int64_t(i) / n, ", ",
              int64_t(i) % n, "] (", a[i], ")");
  SingleThreadedBlas one;  // LAPACK's blocking follows the thread count: the same bits at any --threads
  const lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', lapack_int(m), lapack_int(n), a.data(), lapack_int(n),
                                         s.s.data(), s.u.data(), lapack_int(s.r), s.vt.data(), lapack_int(n));
  LMP_CHECK(info == 0, what, ": SVD of the ", m, "x", n, " matrix did not converge (LAPACK dgesdd info ", info, ")");
  return s;
}

namespace {

// Smallest eigenvalue of a symmetric [n, n] matrix.
double min_eigenvalue(std::vector<double> g, int64_t n) {
  std::vector<double> w(static_cast<size_t>(n));
  const lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', lapack_int(n), g.data(), lapack_int(n), w.data());
  return info == 0 ? w[0] : std::nan("");
}

bool cholesky_in_place(std::vector<double>& g, int64_t n) {
  if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', lapack_int(n), g.data(), lapack_int(n)) != 0) return false;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) g[size_t(i * n + j)] = 0.0;  // dpotrf leaves the upper part as it was
  return true;
}

}  // namespace

std::vector<double> damped_cholesky(std::vector<double> g, int64_t n, const std::string& what,
                                    const std::string& gram_name) {
  for (size_t i = 0; i < g.size(); ++i)
    LMP_CHECK(std::isfinite(g[i]), what, ": ", gram_name, " has a non-finite value at [", int64_t(i) / n, ", ",
              int64_t(i) % n, "] (", g[i], ")");
  SingleThreadedBlas one;
  std::vector<double> l = g;
  if (cholesky_in_place(l, n)) return l;
  const double lmin = min_eigenvalue(g, n);
  LMP_CHECK(std::isfinite(lmin), what, ": ", gram_name, " (", n, "x", n, ") is not positive definite and its "
            "eigenvalues could not be computed");
  for (int64_t i = 0; i < n; ++i) g[size_t(i * n + i)] += 1e-3 - lmin;
  LMP_CHECK(cholesky_in_place(g, n), what, ": ", gram_name, " (", n, "x", n, ") is not positive definite even after "
            "damping its diagonal by ", 1e-3 - lmin, " (smallest eigenvalue ", lmin, ")");
  return g;
}

std::vector<double> lower_inverse(std::vector<double> l, int64_t n, const std::string& what) {
  SingleThreadedBlas one;
  const lapack_int info = LAPACKE_dtrtri(LAPACK_ROW_MAJOR, 'L', 'N', lapack_int(n), l.data(), lapack_int(n));
  LMP_CHECK(info == 0, what, ": the Cholesky factor is singular at its diagonal element ", info - 1);
  return l;
}

std::vector<double> matmul(const std::vector<double>& a, const std::vector<double>& b, int64_t m, int64_t k,
                           int64_t p) {
  std::vector<double> c(size_t(m * p), 0.0);
  SingleThreadedBlas one;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(p), int(k), 1.0, a.data(), int(k), b.data(),
              int(p), 0.0, c.data(), int(p));
  return c;
}

LowRankFactors split_factors(const ThinSvd& svd, int64_t k, const std::vector<double>& right) {
  const int64_t m = svd.m, n = svd.n;
  std::vector<double> bt(size_t(k * n));  // diag(√σ_k)·Vᵀ_k
  LowRankFactors f;
  f.a = Tensor::zeros(DType::F32, {m, k});
  for (int64_t j = 0; j < k; ++j) {
    const double root = std::sqrt(std::max(svd.s[size_t(j)], 0.0));
    for (int64_t i = 0; i < m; ++i) f.a.f32()[i * k + j] = float(svd.u[size_t(i * svd.r + j)] * root);
    for (int64_t c = 0; c < n; ++c) bt[size_t(j * n + c)] = svd.vt[size_t(j * n + c)] * root;
  }
  if (!right.empty()) bt = matmul(bt, right, k, n, n);
  f.b = Tensor::zeros(DType::F32, {k, n});
  for (size_t i = 0; i < bt.size(); ++i) f.b.f32()[i] = float(bt[i]);
  return f;
}

Tensor factors_product(const LowRankFactors& f) {
  const int64_t out = f.a.dim(0), k = f.a.dim(1), in = f.b.dim(1);
  Tensor w = Tensor::zeros(DType::F32, {out, in});
  lmp_lowrank_product(f.a.f32(), f.b.f32(), out, k, in, w.f32());
  return w;
}

}  // namespace lmp
