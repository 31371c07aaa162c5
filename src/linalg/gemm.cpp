#include "linalg/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <string>
#include <thread>

#include "core/error.h"

namespace lmp {

namespace {
void check_dims(const char* op, int64_t M, int64_t N, int64_t K) {
  LMP_CHECK(M >= 0 && N >= 0 && K >= 0, op, ": negative dimension M=", M, " N=", N, " K=", K);
  constexpr int64_t kMax = 0x7fffffff;
  LMP_CHECK(M <= kMax && N <= kMax && K <= kMax, op, ": dimension exceeds 32-bit BLAS: M=", M, " N=", N,
            " K=", K);
}
}  // namespace

void gemm_nt(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha, float beta) {
  check_dims("gemm_nt", M, N, K);
  if (M == 0 || N == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(N), int(K), alpha, A, int(lda), B,
              int(ldb), beta, C, int(ldc));
}

void gemm_nn(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha, float beta) {
  check_dims("gemm_nn", M, N, K);
  if (M == 0 || N == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(M), int(N), int(K), alpha, A, int(lda), B,
              int(ldb), beta, C, int(ldc));
}

void gemm_tn(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha, float beta) {
  check_dims("gemm_tn", M, N, K);
  if (M == 0 || N == 0) return;
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(M), int(N), int(K), alpha, A, int(lda), B,
              int(ldb), beta, C, int(ldc));
}

void set_num_threads(int n) {
  if (n <= 0) n = int(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

const char* blas_description() {
  static const std::string d = [] {
    std::string s = openblas_get_config();
    s += " core=";
    s += openblas_get_corename();
    return s;
  }();
  return d.c_str();
}

}  // namespace lmp
