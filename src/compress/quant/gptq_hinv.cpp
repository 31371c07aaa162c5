// GPTQ (Frantar et al., ICLR 2023) §4 step 3 "Cholesky reformulation": damping λ = damp · mean(diag H),
// H⁻¹ from the Cholesky factor of H (dpotrf + dpotri), then the upper Cholesky factor of H⁻¹.
// Deviation: computed in f64 (the reference uses f32 on the GPU) — more robust; the factor is returned
// as f32 for the f32 updates of the weights, as the reference does them.
#include "compress/quant/gptq_hinv.h"

#include <lapacke.h>

#include "core/error.h"
#include "linalg/gemm.h"

namespace lmp {

namespace {

void add_damping(std::vector<double>& h, int64_t n, double damp_frac) {
  double mean = 0;
  for (int64_t j = 0; j < n; ++j) mean += h[size_t(j * n + j)];
  mean /= double(n);
  for (int64_t j = 0; j < n; ++j) h[size_t(j * n + j)] += damp_frac * mean;
}

void check_info(const std::string& name, const char* step, lapack_int info) {
  LMP_CHECK(info == 0, "gptq: ", name, ": the damped Hessian is not positive definite (", step,
            " info = ", info, "); raise --damp");
}

}  // namespace

std::vector<float> damped_inverse_cholesky_upper(const std::string& name, std::vector<double>& h,
                                                 int64_t n, double damp_frac) {
  add_damping(h, n, damp_frac);
  const lapack_int ln = lapack_int(n);
  const SingleThreadedBlas one_thread;  // the same factor at any --threads
  check_info(name, "Cholesky of H", LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', ln, h.data(), ln));
  check_info(name, "inverse of H", LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', ln, h.data(), ln));
  for (int64_t i = 0; i < n; ++i)  // mirror the lower triangle of H⁻¹ to the upper one
    for (int64_t j = i + 1; j < n; ++j) h[size_t(i * n + j)] = h[size_t(j * n + i)];
  check_info(name, "Cholesky of H^-1", LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', ln, h.data(), ln));
  std::vector<float> u(size_t(n * n), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) u[size_t(i * n + j)] = float(h[size_t(i * n + j)]);
  return u;
}

}  // namespace lmp
