// GEMM: thin wrappers over BLAS sgemm for row-major matrices, and the thread settings that BLAS and
// lmpress's own OpenMP loops share.
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

// Sets the threads used by BLAS and by OpenMP loops (n <= 0: all cores).
void set_num_threads(int n);
int num_threads();
// Name and build of the BLAS in use ("OpenBLAS 0.3.21 (OpenMP) Haswell").
const char* blas_description();

}  // namespace lmp
