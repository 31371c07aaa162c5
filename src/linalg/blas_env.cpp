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

void ensure_runtime_env(char** argv) {
  if (std::getenv("LMP_ENV_SET")) return;  // already re-executed once
  bool changed = false;
  if (blas_kernels_need_hint()) {
    setenv("OPENBLAS_CORETYPE", "Haswell", 0);
    changed = true;
  }
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    changed = true;
  }
  if (!changed) return;
  setenv("LMP_ENV_SET", "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on as is
}

}  // namespace lmp
