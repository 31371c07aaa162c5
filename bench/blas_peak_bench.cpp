// SGEMM FLOP/s of one BLAS library, loaded with dlopen so every Debian BLAS can be measured the same way:
//   blas_peak_bench LIB.so [n ...]     (threads from OMP_NUM_THREADS / BLIS_NUM_THREADS / OPENBLAS_NUM_THREADS)
// Prints one JSON object per size: {"lib":..., "n":..., "gflops":...} (best of 5 runs).
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using sgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                          const float*, const int*, const float*, const int*, const float*, float*, const int*);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: blas_peak_bench LIB.so [n ...]\n");
    return 2;
  }
  void* h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!h) {
    std::fprintf(stderr, "blas_peak_bench: cannot load %s: %s\n", argv[1], dlerror());
    return 1;
  }
  auto sgemm = reinterpret_cast<sgemm_fn>(dlsym(h, "sgemm_"));
  if (!sgemm) {
    std::fprintf(stderr, "blas_peak_bench: %s has no sgemm_\n", argv[1]);
    return 1;
  }
  std::vector<int> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {512, 1024, 2048};
  for (int n : sizes) {
    std::vector<float> a(size_t(n) * n, 0.5f), b(size_t(n) * n, 0.25f), c(size_t(n) * n, 0.0f);
    const float one = 1.0f, zero = 0.0f;
    double best = 1e30;
    for (int rep = 0; rep < 6; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      sgemm("N", "N", &n, &n, &n, &one, a.data(), &n, b.data(), &n, &zero, c.data(), &n);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (rep > 0) best = std::min(best, s);  // first run warms up
    }
    std::printf("{\"lib\": \"%s\", \"n\": %d, \"gflops\": %.1f}\n", argv[1], n, 2.0 * n * n * double(n) / best / 1e9);
  }
  return 0;
}
