#!/usr/bin/env bash
# The "Scale" rows of BENCHMARKS.md: compress and evaluate LLaMA-shaped random checkpoints (real sizes,
# quality irrelevant) with peak RSS, anonymous memory and file pages sampled by bench/peak_memory.py.
# usage: bench/scale.sh OUT_DIR STEP...
#   STEP: gen7b | gen7b4 | rtn7b | gptq7b4 | eval7b | resume7b | gen70b | rtn70b | gptq70b | blas
#   gen7b:   build/tools/random_llama OUT/r7b-32 --shape llama2-7b (13.5 GB) and OUT/r7b-4 (4 blocks)
#   gen7b4:  OUT/r7b-4 alone
#   rtn7b:   compress OUT/r7b-32 --method rtn --bits 4 --group 128 --format gptq
#   gptq7b4: compress OUT/r7b-4 --method gptq --bits 4 --group 128, 16 x 512 calibration (4 of 32 blocks)
#   eval7b:  eval --max-windows 2 of the bf16 original and of the rtn7b result (lm-s's tokenizer)
#   resume7b: rtn7b killed by SIGKILL after ${RESUME_KILL_S:-120} s, rerun, and its output compared byte for byte
#            with rtn7b's (run rtn7b first)
#   gen70b / rtn70b / gptq70b: the LLaMA-2-70B shape with 2 blocks, its RTN and its GPTQ (16 x 512)
#   blas:    the machine's SGEMM peak (build/bench/blas_peak_bench)
set -euo pipefail
cd "$(dirname "$0")/.."
LMP=${LMPRESS:-build/lmpress}
SHARED=${LMP_SHARED:-../shared}
out=$1; shift
mkdir -p "$out"
mem() { python3 bench/peak_memory.py "$@"; }
calib16() {  # 16 x 512 calibration windows chosen by ZipCal from the pool (lm-s's tokenizer)
  [ -f "$out/calib16x512.safetensors" ] || "$LMP" select --pool "$SHARED/data/corpus/pool.jsonl.xz" \
    --model "$SHARED/models/lm-s" --n 16 --seq 512 -o "$out/calib16x512.safetensors" -q
}
text=(--tokenizer "$SHARED/models/lm-s/tokenizer.json" --text "$SHARED/data/corpus/heldout_dev.jsonl" --ctx 512)
for step in "$@"; do
  case $step in
    gen7b) build/tools/random_llama "$out/r7b-32" --shape llama2-7b 2> /dev/null
           build/tools/random_llama "$out/r7b-4" --shape llama2-7b --layers 4 2> /dev/null ;;
    rtn7b) mem "$out/rtn7b.mem" "$LMP" compress "$out/r7b-32" -o "$out/r7b32-rtn" --method rtn --bits 4 --group 128 \
             --format gptq --force --json -q > "$out/rtn7b.json" ;;
    gen7b4) build/tools/random_llama "$out/r7b-4" --shape llama2-7b --layers 4 2> /dev/null ;;
    gptq7b4) calib16
             mem "$out/gptq7b4.mem" "$LMP" compress "$out/r7b-4" -o "$out/r7b4-gptq" --method gptq --bits 4 --group 128 \
               --calib "$out/calib16x512.safetensors" --format gptq --force --json -q > "$out/gptq7b4.json" ;;
    eval7b) mem "$out/eval7b-bf16.mem" "$LMP" eval "$out/r7b-32" "${text[@]}" --max-windows 2 --json -q > "$out/eval7b-bf16.json"
            mem "$out/eval7b-rtn.mem" "$LMP" eval "$out/r7b32-rtn" "${text[@]}" --max-windows 2 --json -q > "$out/eval7b-rtn.json" ;;
    resume7b) rtn=(compress "$out/r7b-32" -o "$out/r7b32-rtn-resumed" --method rtn --bits 4 --group 128 --format gptq --force)
              rm -rf "$out/r7b32-rtn-resumed" "$out/r7b32-rtn-resumed.resume"
              start=$(date +%s)
              timeout -s KILL "${RESUME_KILL_S:-120}" "$LMP" "${rtn[@]}" -q || true
              python3 -c "import json,sys; print('killed after', sys.argv[2], 's with', json.load(open(sys.argv[1]))['blocks_done'], 'blocks saved')" \
                "$out/r7b32-rtn-resumed.resume/manifest.json" "$(( $(date +%s) - start ))" | tee "$out/resume7b.txt"
              du -sh "$out/r7b32-rtn-resumed.resume" | tee -a "$out/resume7b.txt"
              mem "$out/resume7b.mem" "$LMP" "${rtn[@]}" --json -q > "$out/resume7b.json"
              for f in "$out"/r7b32-rtn/*; do cmp "$f" "$out/r7b32-rtn-resumed/$(basename "$f")"; done
              echo "every file of r7b32-rtn-resumed equals r7b32-rtn's" | tee -a "$out/resume7b.txt" ;;
    gen70b) build/tools/random_llama "$out/r70b-2" --shape llama2-70b --layers 2 2> /dev/null ;;
    rtn70b) mem "$out/rtn70b.mem" "$LMP" compress "$out/r70b-2" -o "$out/r70b2-rtn" --method rtn --bits 4 --group 128 \
              --format gptq --force --json -q > "$out/rtn70b.json" ;;
    gptq70b) calib16
             mem "$out/gptq70b.mem" "$LMP" compress "$out/r70b-2" -o "$out/r70b2-gptq" --method gptq --bits 4 --group 128 \
               --calib "$out/calib16x512.safetensors" --format gptq --force --json -q > "$out/gptq70b.json" ;;
    blas) OMP_NUM_THREADS=$(nproc) build/bench/blas_peak_bench /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0 2048 4096 > "$out/blas.txt" ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
