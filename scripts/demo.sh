#!/usr/bin/env bash
# `make demo`: the main job on the bundled model (stories260K, GGUF): choose calibration data from the
# bundled TinyStories pool with ZipCal, compress with GPTQ 4-bit per row (--group -1: the model's sizes
# are 64 and 172), export an HF checkpoint (with a tokenizer.json written from the GGUF vocabulary), and
# compare before/after (size, bits/weight, perplexity, KLD). LMP_DEMO_OUT overrides the output folder.
set -euo pipefail
LMPRESS=${1:-build/lmpress}
cd "$(dirname "$0")/.."
MODEL=assets/stories260K/stories260K.gguf
EVAL=assets/tinystories_eval.txt
POOL=assets/tinystories_pool.txt
OUT=${LMP_DEMO_OUT:-out/demo}
mkdir -p "$OUT"

echo "== 1. lmpress inspect $MODEL"
"$LMPRESS" inspect "$MODEL"

echo; echo "== 2. lmpress select: ZipCal, 64 samples of 128 tokens from $POOL"
"$LMPRESS" select --pool "$POOL" --model "$MODEL" --method zipcal --n 64 --seq 128 -o "$OUT/calib.safetensors" \
  --json -q > "$OUT/select.json"
python3 -c "import json;j=json.load(open('$OUT/select.json'));print('selected %d samples in %.2f s, %d types covered' % (64, j['seconds'], j['types_covered']))" 2>/dev/null || cat "$OUT/select.json"

echo; echo "== 3. lmpress compress: GPTQ 4-bit, one group per row, act-order -> HF checkpoint"
"$LMPRESS" compress "$MODEL" -o "$OUT/stories260K-gptq-w4" --method gptq --bits 4 --group -1 --act-order \
  --calib "$OUT/calib.safetensors" --format hf --dtype f32 --force --json -q > "$OUT/compress.json"

echo; echo "== 4. lmpress eval: before and after on $EVAL (ctx 256)"
"$LMPRESS" eval "$MODEL" --text "$EVAL" --ctx 256 --json -q > "$OUT/eval_base.json"
"$LMPRESS" eval "$OUT/stories260K-gptq-w4" --kld-base "$MODEL" --text "$EVAL" --ctx 256 --json -q \
  > "$OUT/eval_gptq.json"

python3 - "$OUT" "$MODEL" <<'PY'
import json, os, sys
out, model = sys.argv[1], sys.argv[2]
c = json.load(open(f"{out}/compress.json"))
base = json.load(open(f"{out}/eval_base.json"))
q = json.load(open(f"{out}/eval_gptq.json"))
linear_mb_f32 = c["params"] * 4 / 1e6
linear_mb_q = c["params"] * c["bpw_total"] / 8 / 1e6
print(f"\n{'':28}{'original (f32)':>16}{'GPTQ w4 per-row':>18}")
print(f"{'linear layers, MB':28}{linear_mb_f32:>16.3f}{linear_mb_q:>18.3f}")
print(f"{'bits per weight (linears)':28}{32.0:>16.2f}{c['bpw_total']:>18.2f}")
print(f"{'perplexity (eval text)':28}{base['ppl']:>16.4f}{q['ppl']:>18.4f}")
print(f"{'KLD vs original':28}{0.0:>16.5f}{q['kld_mean']:>18.5f}")
print(f"{'top-1 agreement':28}{'100.00%':>16}{100*q['top1_agreement']:>17.2f}%")
print(f"\ncompression took {c['seconds']:.2f} s; HF checkpoint in {out}/stories260K-gptq-w4")
PY

echo; echo "== 5. lmpress generate from the compressed model (greedy)"
"$LMPRESS" generate "$OUT/stories260K-gptq-w4" --prompt "Once upon a time" --temperature 0 --max-tokens 48
