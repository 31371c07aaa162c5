#!/usr/bin/env bash
# End-to-end `lmpress compress` on lm-m with the reference calibration set (128 x 512): wall time and
# peak RSS of GPTQ w4 g128 act-order and SparseGPT 50% (its default "block" sequencing, as the reference
# runs it, and "linear" sequencing), HF bf16 export included. One JSON line per run.
#   bench/compress_bench.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
SHARED=${LMP_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%F); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $("$BUILD/lmpress" --version | tail -1)"
run() {
  local label=$1; shift
  /usr/bin/time -f "{\"run\": \"$label\", \"wall_s\": %e, \"peak_rss_kb\": %M}" \
    "$BUILD/lmpress" compress "$SHARED/models/lm-m" -o "$OUT/m" --force -q \
    --calib "$SHARED/reference/calib_128x512.safetensors" "$@" > /dev/null
}
run gptq_w4_g128 --method gptq --bits 4 --group 128 --act-order
run sparsegpt_50_block --method sparsegpt --sparsity 0.5
run sparsegpt_50_linear --method sparsegpt --sparsity 0.5 --sequential linear
