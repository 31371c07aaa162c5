// The runtime environment of BLAS and OpenMP, which both read it when they load (before main), so a
// program fixes it by re-executing itself once with the variables set:
// - OPENBLAS_CORETYPE: Debian 12's OpenBLAS 0.3.21 does not recognise recent Xeons (e.g. Sapphire
//   Rapids) and falls back to its SSE3 "Prescott" kernels, ~6x slower than its AVX2 ("Haswell") ones and
//   ~10x slower than its AVX-512 ("SkylakeX") ones. lmpress then names the kernels a current OpenBLAS
//   would pick: SkylakeX where the CPU and OS have AVX-512 F/CD/BW/DQ/VL, else Haswell where AVX2 and
//   FMA are there. A value the user (or the machine) set is kept as it is: the test suite pins Haswell.
// - OMP_WAIT_POLICY: libgomp's idle threads spin by default; when the cores are shared (another process,
//   BLAS's own threads) spinning threads steal the time the working ones need — 17x slower measured on
//   these 2-core machines under load — so lmpress lets idle threads sleep unless the user chose.
#pragma once

namespace lmp {

// The OPENBLAS_CORETYPE to set, or nullptr: only when it is unset and OpenBLAS fell back to its generic
// Prescott kernels on a CPU with AVX-512 (SkylakeX) or AVX2 + FMA (Haswell).
const char* blas_kernels_hint();
// Sets what is missing of the above and re-executes /proc/self/exe with `argv` (once; returns and
// carries on as is when nothing is missing or exec fails). Call first thing in main().
void ensure_runtime_env(char** argv);

}  // namespace lmp
