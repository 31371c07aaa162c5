#include "linalg/blas_env.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lmp {

bool blas_kernels_need_hint() {
  if (std::getenv("OPENBLAS_CORETYPE")) return false;
  const char* core = openblas_get_corename();
  if (!core || std::strcmp(core, "Prescott") != 0) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void ensure_fast_blas_kernels(char** argv) {
  if (!blas_kernels_need_hint()) return;
  setenv("OPENBLAS_CORETYPE", "Haswell", 0);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the slow kernels
}

}  // namespace lmp
