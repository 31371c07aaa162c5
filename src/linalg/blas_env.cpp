#include "linalg/blas_env.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lmp {

const char* blas_kernels_hint() {
  if (std::getenv("OPENBLAS_CORETYPE")) return nullptr;
  const char* core = openblas_get_corename();
  if (!core || std::strcmp(core, "Prescott") != 0) return nullptr;
  __builtin_cpu_init();  // libgcc's checks include the OS saving the AVX/AVX-512 registers
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

void ensure_runtime_env(char** argv) {
  if (std::getenv("LMP_ENV_SET")) return;  // already re-executed once
  bool changed = false;
  if (const char* kernels = blas_kernels_hint()) {
    setenv("OPENBLAS_CORETYPE", kernels, 0);
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
