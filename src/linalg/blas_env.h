// The runtime environment of BLAS and OpenMP, which both read it when they load (before main), so a
// program fixes it by re-executing itself once with the variables set:
// - OPENBLAS_CORETYPE: Debian 12's OpenBLAS 0.3.21 does not recognise recent Xeons (e.g. Sapphire
//   Rapids) and falls back to its SSE3 "Prescott" kernels, ~3x slower than its AVX2 ones; the machines
//   lmpress is developed on set OPENBLAS_CORETYPE=Haswell for that reason.
// - OMP_WAIT_POLICY: libgomp's idle threads spin by default; when the cores are shared (another process,
//   BLAS's own threads) spinning threads steal the time the working ones need — 17x slower measured on
//   these 2-core machines under load — so lmpress lets idle threads sleep unless the user chose.
#pragma once

namespace lmp {

// True when OPENBLAS_CORETYPE is unset, OpenBLAS chose its generic Prescott kernels and the CPU has
// AVX2 and FMA.
bool blas_kernels_need_hint();
// Sets what is missing of the above and re-executes /proc/self/exe with `argv` (once; returns and
// carries on as is when nothing is missing or exec fails). Call first thing in main().
void ensure_runtime_env(char** argv);

}  // namespace lmp
