#include "compress/inverse_hessian.h"

#include <lapacke.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "linalg/gemm.h"

namespace lmp {

namespace {

void check_size(const std::string& where, size_t values, int64_t in) {
  LMP_CHECK(int64_t(values) == in * in, where, ": Hessian: expected ", in, "x", in, " = ", in * in,
            " values, found ", values);
}

void check_finite(const std::string& where, const std::vector<double>& h, int64_t in) {
  for (int64_t i = 0; i < in * in; ++i)
    LMP_CHECK(std::isfinite(h[size_t(i)]), where, ": Hessian has a non-finite value ", h[size_t(i)], " at [",
              i / in, ", ", i % in, "]: expected finite values");
}

// The inputs in factor order, reversed: position i of the factorized matrix holds input rev[i].
std::vector<int64_t> reversed_order(const std::string& where, const InverseHessianSpec& spec, int64_t in) {
  std::vector<int64_t> rev(static_cast<size_t>(in));
  if (spec.order.empty()) {
    std::iota(rev.rbegin(), rev.rend(), 0);
    return rev;
  }
  LMP_CHECK(int64_t(spec.order.size()) == in, where, ": input order has ", spec.order.size(),
            " entries, expected ", in);
  std::vector<uint8_t> seen(size_t(in), 0);
  for (const int64_t j : spec.order) {
    LMP_CHECK(j >= 0 && j < in && !seen[size_t(j)], where, ": input order is not a permutation of 0..",
              in - 1, " (input ", j, ")");
    seen[size_t(j)] = 1;
  }
  std::reverse_copy(spec.order.begin(), spec.order.end(), rev.begin());
  return rev;
}

// In place: b[i][j] = b[p[i]][p[j]] for a permutation p, with one row of scratch (rows by following
// the permutation's cycles, then each row's columns).
void permute_symmetric(std::vector<double>& b, int64_t n, const std::vector<int64_t>& p) {
  std::vector<double> row(static_cast<size_t>(n));
  std::vector<uint8_t> done(size_t(n), 0);
  for (int64_t start = 0; start < n; ++start) {
    if (done[size_t(start)]) continue;
    std::copy_n(&b[size_t(start * n)], n, row.begin());
    int64_t i = start;
    for (; p[size_t(i)] != start; i = p[size_t(i)]) {
      std::copy_n(&b[size_t(p[size_t(i)] * n)], n, &b[size_t(i * n)]);
      done[size_t(i)] = 1;
    }
    std::copy(row.begin(), row.end(), &b[size_t(i * n)]);
    done[size_t(i)] = 1;
  }
  for (int64_t i = 0; i < n; ++i) {
    double* r = &b[size_t(i * n)];
    for (int64_t j = 0; j < n; ++j) row[size_t(j)] = r[p[size_t(j)]];
    std::copy(row.begin(), row.end(), r);
  }
}

// In place: a[i][j] <-> a[n-1-j][n-1-i] (the transpose across the anti-diagonal), in tiles.
void anti_transpose(double* a, int64_t n) {
  constexpr int64_t kTile = 64;
  for (int64_t i0 = 0; i0 < n; i0 += kTile)
    for (int64_t j0 = 0; j0 < n - i0; j0 += kTile)
      for (int64_t i = i0; i < std::min(i0 + kTile, n); ++i)
        for (int64_t j = j0; j < std::min(j0 + kTile, n - 1 - i); ++j)
          std::swap(a[i * n + j], a[(n - 1 - j) * n + (n - 1 - i)]);
}

// In place: the upper triangle of the f64 matrix as f32 in the first half of its bytes (the strict lower
// part 0); each float lands on bytes of doubles already read. The pages of the second half go back to
// the system (they read as zeros from then on).
const float* narrow_upper(std::vector<double>& a, int64_t n) {
  auto* bytes = reinterpret_cast<unsigned char*>(a.data());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const size_t k = size_t(i * n + j);
      double v;
      std::memcpy(&v, bytes + k * sizeof(double), sizeof v);
      const float f = j < i ? 0.0f : float(v);
      std::memcpy(bytes + k * sizeof(float), &f, sizeof f);
    }
  const auto page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t from = (uintptr_t(bytes) + size_t(n * n) * sizeof(float) + page - 1) / page * page;
  const uintptr_t to = (uintptr_t(bytes) + size_t(n * n) * sizeof(double)) / page * page;
  if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
  return reinterpret_cast<const float*>(bytes);
}

}  // namespace

std::vector<double> prepared_diagonal(const std::string& where, const LinearStats& stats, int64_t in,
                                      double scale) {
  check_size(where, stats.hessian.size(), in);
  std::vector<double> d(static_cast<size_t>(in));
  for (int64_t j = 0; j < in; ++j) {
    const double v = stats.hessian[size_t(j * in + j)];
    d[size_t(j)] = v == 0.0 ? 1.0 : scale * v;
  }
  return d;
}

InverseHessian inverse_hessian(const std::string& where, const LinearStats& stats, int64_t in,
                               const InverseHessianSpec& spec) {
  check_size(where, stats.hessian.size(), in);
  return inverse_hessian(where, std::vector<double>(stats.hessian), in, spec);
}

InverseHessian inverse_hessian(const std::string& where, std::vector<double>&& hessian, int64_t in,
                               const InverseHessianSpec& spec) {
  check_size(where, hessian.size(), in);
  check_finite(where, hessian, in);
  const std::vector<int64_t> rev = reversed_order(where, spec, in);
  InverseHessian r;
  r.in_ = in;
  r.buffer_ = std::move(hessian);
  std::vector<double>& b = r.buffer_;
  // The diagonal by input: dead entries at 1, the damp from the trace summed in input order.
  std::vector<double> diag(static_cast<size_t>(in));
  r.dead_.assign(size_t(in), 0);
  double trace = 0.0;
  for (int64_t j = 0; j < in; ++j) {
    const double v = b[size_t(j * in + j)];
    r.dead_[size_t(j)] = v == 0.0;
    diag[size_t(j)] = v == 0.0 ? 1.0 : spec.scale * v;
    trace += diag[size_t(j)];
  }
  const double add = spec.damp * trace / double(in);
  // B = R·H'·R, R reversing the factor order: U = R·L⁻¹·R where B = L·Lᵀ, since then
  // H'⁻¹ = R·L⁻ᵀ·L⁻¹·R = UᵀU with U upper triangular (the unique factor, positive diagonal). Two LAPACK
  // calls (potrf, trtri) instead of potrf, potri, potrf, and column-major so that LAPACKE makes no
  // transposed copy: B is symmetric, so it factors as it lies.
  permute_symmetric(b, in, rev);
  if (spec.scale != 1.0)
    for (double& v : b) v *= spec.scale;
  for (int64_t i = 0; i < in; ++i) b[size_t(i * in + i)] = diag[size_t(rev[size_t(i)])] + add;
  const lapack_int n = lapack_int(in);
  lapack_int info = 0;
  {
    const SingleThreadedBlas one_thread;  // the same factor at any --threads
    info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', n, b.data(), n);
    if (info == 0) info = -LAPACKE_dtrtri(LAPACK_COL_MAJOR, 'L', 'N', n, b.data(), n);
  }
  const char* of = spec.order.empty() ? "input columns" : "positions in factor order";
  // potrf stops at the first leading minor of B that is not positive: the last `info` positions.
  LMP_CHECK(info <= 0, where, ": damped Hessian is not positive definite on ", of, " [", in - info, ", ",
            in, "): expected positive definite; raise --damp (now ", spec.damp, ")");
  LMP_CHECK(info == 0, where, ": damped Hessian is singular (its Cholesky factor has a zero at ", of, " ",
            in + info, "): expected invertible; raise --damp (now ", spec.damp, ")");
  // Column-major L⁻¹[a][b] lies at b·n + a, so U[i][j] = L⁻¹[n-1-i][n-1-j] lies at (n-1-j)·n + (n-1-i):
  // the anti-transpose puts it at i·n + j.
  anti_transpose(b.data(), in);
  r.u_ = narrow_upper(b, in);
  return r;
}

}  // namespace lmp
