// GEMM and SYRK over BLAS for row-major matrices, and the thread settings that BLAS and lmpress's own
// OpenMP loops share. Every product gives the same bits at any thread count (gemm.cpp says how).
#pragma once
#include <cstdint>

namespace lmp {

// C[M,N] = alpha * A[M,K] · B[N,K]ᵀ + beta * C   (B stored row-major as [N, K], i.e. a weight [out, in])
void gemm_nt(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha = 1.0f, float beta = 0.0f);
// C[M,N] = alpha * A[M,K] · B[K,N] + beta * C
void gemm_nn(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha = 1.0f, float beta = 0.0f);
// C[M,N] = alpha * A[K,M]ᵀ · B[K,N] + beta * C
void gemm_tn(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha = 1.0f, float beta = 0.0f);

// C[N,N] upper triangle = A[K,N]ᵀ · A[K,N] + beta * C (the strict lower triangle is not touched).
void syrk_tn_upper(int64_t N, int64_t K, const float* A, int64_t lda, float* C, int64_t ldc,
                   float beta = 0.0f);

// Sets the threads used by BLAS and by OpenMP loops (n <= 0: all cores).
void set_num_threads(int n);
int num_threads();
// Runs BLAS (and LAPACK, whose blocking also follows the thread count) on one thread while alive, so
// that factorizations give the same bits at any --threads.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_;
};

// Name and build of the BLAS in use ("OpenBLAS 0.3.21 (OpenMP) Haswell").
const char* blas_description();

}  // namespace lmp
