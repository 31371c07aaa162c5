// lmpress's thread-invariant tiled products (linalg/gemm.cpp) against one multi-threaded BLAS call on
// the shapes of compression (calibration batches of 4096 rows, the GPTQ/SparseGPT sweep updates) and a
// large square: GFLOP/s of each, best of 4 after a warm-up, in one process.
//   gemm_tiles_bench [--threads N]
#include <cblas.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "linalg/blas_env.h"
#include "linalg/gemm.h"

using clk = std::chrono::steady_clock;

namespace {

template <class F>
double best_seconds(F&& f) {
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = clk::now();
    f();
    const double s = std::chrono::duration<double>(clk::now() - t0).count();
    if (rep > 0) best = std::min(best, s);
  }
  return best;
}

void gemm_row(int M, int N, int K) {
  std::vector<float> a(size_t(M) * K, 0.5f), b(size_t(N) * K, 0.25f), c(size_t(M) * N);
  const double raw = best_seconds([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a.data(), K, b.data(), K, 0.0f, c.data(), N);
  });
  const double tiled = best_seconds([&] { lmp::gemm_nt(M, N, K, a.data(), K, b.data(), K, c.data(), N); });
  const double gf = 2.0 * M * N * K / 1e9;
  std::printf("{\"op\": \"gemm_nt\", \"M\": %d, \"N\": %d, \"K\": %d, \"blas_gflops\": %.1f, \"tiled_gflops\": %.1f, "
              "\"ratio\": %.3f}\n", M, N, K, gf / raw, gf / tiled, raw / tiled);
}

void syrk_row(int n, int k) {
  std::vector<float> a(size_t(k) * n, 0.3f), c(size_t(n) * n);
  const double raw = best_seconds([&] {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, 1.0f, a.data(), n, 0.0f, c.data(), n);
  });
  const double tiled = best_seconds([&] { lmp::syrk_tn_upper(n, k, a.data(), n, c.data(), n); });
  const double gf = double(n) * n * k / 1e9;
  std::printf("{\"op\": \"syrk\", \"n\": %d, \"k\": %d, \"blas_gflops\": %.1f, \"tiled_gflops\": %.1f, \"ratio\": %.3f}\n",
              n, k, gf / raw, gf / tiled, raw / tiled);
}

}  // namespace

int main(int argc, char** argv) {
  lmp::ensure_runtime_env(argv);
  int threads = 0;
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[++i]);
  lmp::set_num_threads(threads);
  std::printf("# %s, %d threads\n", lmp::blas_description(), lmp::num_threads());
  for (const auto& s : {std::array<int, 3>{4096, 256, 512}, {4096, 512, 512}, {4096, 1408, 512}, {4096, 512, 1408},
                        {1408, 1280, 128}, {512, 1280, 128}, {2048, 2048, 2048}})
    gemm_row(s[0], s[1], s[2]);
  syrk_row(512, 4096);
  syrk_row(1408, 4096);
  return 0;
}
