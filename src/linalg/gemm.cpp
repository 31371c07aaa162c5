// Thread-count invariance: OpenBLAS's rounding of an element depends on how it cuts the product into
// blocks, and that cut depends on its thread count (measured with OpenBLAS 0.3.21: ~10% of the
// elements of a 704x128x128 sgemm differ between 1 and 2 threads, and again between one call and the
// same product in 64-row pieces). So every product here is cut into tiles by a rule that reads only the
// shape, each tile runs single-threaded in BLAS, and OpenMP spreads the tiles over the threads: the
// bits of every result, and so of every compressed model and perplexity, are the same at any
// --threads.
#include "linalg/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace lmp {

namespace {

constexpr int64_t kTile = 256;

void check_dims(const char* op, int64_t M, int64_t N, int64_t K) {
  LMP_CHECK(M >= 0 && N >= 0 && K >= 0, op, ": negative dimension M=", M, " N=", N, " K=", K);
  constexpr int64_t kMax = 0x7fffffff;
  LMP_CHECK(M <= kMax && N <= kMax && K <= kMax, op, ": dimension exceeds 32-bit BLAS: M=", M, " N=", N,
            " K=", K);
}

// One rectangle [m0, m0+m) x [n0, n0+n) of the output.
struct Tile {
  int64_t m0, m, n0, n;
};

// Equal panels of the output along its rows or its columns (the last one ragged); no allocation, as
// attention calls a product per head and row block.
struct TileGrid {
  int64_t M, N, size;
  bool by_rows;
  int64_t count() const { return ((by_rows ? M : N) + size - 1) / size; }
  Tile tile(int64_t i) const {
    const int64_t o = i * size;
    return by_rows ? Tile{o, std::min(size, M - o), 0, N} : Tile{0, M, o, std::min(size, N - o)};
  }
};

// A function of the shape alone. Wide outputs (an lm_head's vocabulary) go in column panels, so each
// weight row is packed by BLAS once; otherwise rows in panels of kTile when there are at least two
// (2·kTile for long inputs such as calibration batches: fewer re-packs), else columns, else one tile.
TileGrid tiles_of(int64_t M, int64_t N) {
  if (N >= 8 * kTile) return {M, N, kTile, false};
  if (M >= 2 * kTile) return {M, N, M >= 8 * kTile ? 2 * kTile : kTile, true};
  if (N >= 2 * kTile) return {M, N, kTile, false};
  return {M, N, std::max<int64_t>(M, 1), true};
}

// Runs fn(i) for i in [0, count) with BLAS single-threaded in every call: inside an enclosing parallel
// region (BLAS sees it and stays on one thread) or with one thread in all, serially; otherwise in a
// parallel region of at least two threads, which keeps BLAS to one thread even for a single tile.
template <class Fn>
void run_single_threaded_blas(int64_t count, Fn&& fn) {
  const int nt = omp_get_max_threads();
  if (omp_in_parallel() || nt == 1) {
    for (int64_t i = 0; i < count; ++i) fn(i);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(std::max(2, std::min<int>(nt, int(count))))
  for (int64_t i = 0; i < count; ++i) fn(i);
}

// C = alpha · op(A) · op(B) + beta · C, row-major; op(A) is [M, K], op(B) is [K, N].
void tiled_sgemm(const char* op, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K,
                 float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  check_dims(op, M, N, K);
  if (M == 0 || N == 0) return;
  const TileGrid grid = tiles_of(M, N);
  run_single_threaded_blas(grid.count(), [&](int64_t i) {
    const Tile t = grid.tile(i);
    const float* a = ta == CblasNoTrans ? A + t.m0 * lda : A + t.m0;
    const float* b = tb == CblasNoTrans ? B + t.n0 : B + t.n0 * ldb;
    cblas_sgemm(CblasRowMajor, ta, tb, int(t.m), int(t.n), int(K), alpha, a, int(lda), b, int(ldb), beta,
                C + t.m0 * ldc + t.n0, int(ldc));
  });
}

}  // namespace

void gemm_nt(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha, float beta) {
  tiled_sgemm("gemm_nt", CblasNoTrans, CblasTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_nn(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha, float beta) {
  tiled_sgemm("gemm_nn", CblasNoTrans, CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_tn(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
             float* C, int64_t ldc, float alpha, float beta) {
  tiled_sgemm("gemm_tn", CblasTrans, CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void syrk_tn_upper(int64_t N, int64_t K, const float* A, int64_t lda, float* C, int64_t ldc, float beta) {
  check_dims("syrk_tn_upper", N, N, K);
  if (N == 0) return;
  std::vector<std::pair<int64_t, int64_t>> blocks;  // (row panel, column panel), upper triangle
  for (int64_t i0 = 0; i0 < N; i0 += kTile)
    for (int64_t j0 = i0; j0 < N; j0 += kTile) blocks.emplace_back(i0, j0);
  run_single_threaded_blas(int64_t(blocks.size()), [&](int64_t b) {
    const auto [i0, j0] = blocks[size_t(b)];
    const int64_t ni = std::min(kTile, N - i0), nj = std::min(kTile, N - j0);
    float* c = C + i0 * ldc + j0;
    if (i0 == j0)
      cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, int(ni), int(K), 1.0f, A + i0, int(lda), beta, c,
                  int(ldc));
    else
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(ni), int(nj), int(K), 1.0f, A + i0, int(lda),
                  A + j0, int(lda), beta, c, int(ldc));
  });
}

void set_num_threads(int n) {
  if (n <= 0) n = int(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

SingleThreadedBlas::SingleThreadedBlas() : saved_(num_threads()) {
  if (saved_ != 1) set_num_threads(1);
}

SingleThreadedBlas::~SingleThreadedBlas() {
  if (saved_ != 1) set_num_threads(saved_);
}

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
