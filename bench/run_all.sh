#!/usr/bin/env bash
# Runs the benchmarks and prints their JSON lines; results are recorded by hand in BENCHMARKS.md.
#   bench/run_all.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
SHARED=${LMP_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
L=/usr/lib/$(gcc -print-multiarch)
echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%F)"

echo "# SGEMM peak of each Debian BLAS (2 threads, n = 2048)"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} BLIS_NUM_THREADS=${BLIS_NUM_THREADS:-$(nproc)}
for lib in "$L/openblas-openmp/libopenblas.so.0" "$L/openblas-pthread/libopenblas.so.0" \
           "$L/blis-openmp/libblis.so.4" "$L/blis-pthread/libblis.so.4" "$L/atlas/libblas.so.3"; do
  [ -e "$lib" ] || continue
  case "$lib" in
    *openblas*)  # OpenBLAS 0.3.21 does not recognise recent Xeons: each kernel set this CPU can run
      for ct in Haswell SkylakeX; do
        [ "$ct" = SkylakeX ] && ! grep -qw avx512bw /proc/cpuinfo && continue
        echo "# OPENBLAS_CORETYPE=$ct"
        OPENBLAS_CORETYPE=$ct "$BUILD/bench/blas_peak_bench" "$lib" 2048
      done ;;
    *) "$BUILD/bench/blas_peak_bench" "$lib" 2048 ;;
  esac
done

echo "# prefill throughput of lm-m at ctx 512 vs the SGEMM of the linked BLAS (same run; the kernels the"
echo "# CLI picks, src/linalg/blas_env.h, unless OPENBLAS_CORETYPE is set)"
"$BUILD/bench/prefill_bench" "$SHARED/models/lm-m" --ctx 512 --windows 8

echo "# peak RSS of lmpress eval on lm-m (heldout_dev, ctx 512, 16 windows)"
/usr/bin/time -f '{"peak_rss_kb": %M, "wall_s": %e}' "$BUILD/lmpress" eval "$SHARED/models/lm-m" \
  --text "$SHARED/data/corpus/heldout_dev.jsonl" --ctx 512 --max-windows 16 --json -q

echo "# tiled (thread-invariant) GEMM/SYRK vs one multi-threaded BLAS call"
"$BUILD/bench/gemm_tiles_bench"

echo "# lmpress compress lm-m (128 x 512 calibration), end to end"
bash "$(dirname "$0")/compress_bench.sh" "$BUILD"
