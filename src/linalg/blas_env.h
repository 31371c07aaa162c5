// Choosing OpenBLAS's kernels. Debian 12's OpenBLAS 0.3.21 does not recognise recent Xeons (e.g.
// Sapphire Rapids) and falls back to its SSE3 "Prescott" kernels, about 3x slower than its AVX2 ones;
// the machines lmpress is developed on set OPENBLAS_CORETYPE=Haswell for that reason. The kernel is
// picked when the library loads, before main(), so the fix is to re-execute with the variable set.
#pragma once

namespace lmp {

// True when OPENBLAS_CORETYPE is unset, OpenBLAS chose its generic Prescott kernels and the CPU has
// AVX2 and FMA.
bool blas_kernels_need_hint();
// If blas_kernels_need_hint(), sets OPENBLAS_CORETYPE=Haswell and re-executes /proc/self/exe with
// `argv`; returns (doing nothing) otherwise or if exec fails. Call first thing in main().
void ensure_fast_blas_kernels(char** argv);

}  // namespace lmp
