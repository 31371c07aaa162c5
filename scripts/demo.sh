#!/usr/bin/env bash
# `make demo`: the main job on the bundled model (stories260K, GGUF): choose calibration data from the
# bundled TinyStories pool with ZipCal, compress with GPTQ 4-bit per row (--group -1: the model's sizes
# are 64 and 172) and with data-free EntQuant, write both as lmp checkpoints (entropy-coded, with a
# tokenizer.json written from the GGUF vocabulary), and compare before/after (size on disk, bits/weight,
# perplexity, KLD). LMP_DEMO_OUT overrides the output folder.
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

echo; echo "== 3. lmpress compress: GPTQ 4-bit per row (act-order) and EntQuant FP8 (no data, λ 3.9), both"
echo "      written as lmp checkpoints (entropy-coded codes; sizes below are the files' bytes)"
"$LMPRESS" compress "$MODEL" -o "$OUT/stories260K-gptq-w4" --method gptq --bits 4 --group -1 --act-order \
  --calib "$OUT/calib.safetensors" --format lmp --force --json -q > "$OUT/compress.json"
"$LMPRESS" compress "$MODEL" -o "$OUT/stories260K-entquant" --method entquant --lambda 3.9 \
  --format lmp --force --json -q > "$OUT/compress_eq.json"

echo; echo "== 4. lmpress eval: before and after on $EVAL (ctx 256)"
"$LMPRESS" eval "$MODEL" --text "$EVAL" --ctx 256 --json -q > "$OUT/eval_base.json"
"$LMPRESS" eval "$OUT/stories260K-gptq-w4" --kld-base "$MODEL" --text "$EVAL" --ctx 256 --json -q \
  > "$OUT/eval_gptq.json"
"$LMPRESS" eval "$OUT/stories260K-entquant" --kld-base "$MODEL" --text "$EVAL" --ctx 256 --json -q \
  > "$OUT/eval_eq.json"

python3 - "$OUT" "$MODEL" <<'PY'
import json, sys
out, model = sys.argv[1], sys.argv[2]
c = json.load(open(f"{out}/compress.json"))
ce = json.load(open(f"{out}/compress_eq.json"))
base = json.load(open(f"{out}/eval_base.json"))
q = json.load(open(f"{out}/eval_gptq.json"))
e = json.load(open(f"{out}/eval_eq.json"))
cols = [("original (f32)", None, base), ("GPTQ w4 (lmp)", c, q), ("EntQuant (lmp)", ce, e)]
def row(label, f):
    print(f"{label:28}" + "".join(f"{f(cc, ev):>18}" for _, cc, ev in cols))
print(f"\n{'':28}" + "".join(f"{name:>18}" for name, _, _ in cols))
row("linear layers, MB (file)", lambda cc, ev: f"{c['params'] * 4 / 1e6:.3f}" if cc is None else f"{cc['linear_bytes'] / 1e6:.3f}")
row("bits per weight (on disk)", lambda cc, ev: "32.00" if cc is None else f"{cc['bpw']:.2f}")
row("perplexity (eval text)", lambda cc, ev: f"{ev['ppl']:.4f}")
row("KLD vs original", lambda cc, ev: "0.00000" if cc is None else f"{ev['kld_mean']:.5f}")
row("top-1 agreement", lambda cc, ev: "100.00%" if cc is None else f"{100 * ev['top1_agreement']:.2f}%")
print(f"\ncompression took {c['seconds']:.2f} s (GPTQ), {ce['seconds']:.2f} s (EntQuant); checkpoints in {out}/")
PY

echo; echo "== 5. lmpress generate from the EntQuant checkpoint (greedy, --stream-decode)"
"$LMPRESS" generate "$OUT/stories260K-entquant" --prompt "Once upon a time" --temperature 0 --max-tokens 48 \
  --stream-decode
