#!/usr/bin/env bash
# Quality and size of the low-rank methods (svd, svd-llm, aa-svd, aa-svd + refinement) in the lmp format:
# for each config compress MODEL at ratio ρ with ../shared/reference/calib_128x512.safetensors, then
# perplexity on heldout_dev (window protocol, ctx 512). Sizes are bytes on disk; peak RSS from
# /usr/bin/time -v. usage: bench/lowrank_table.sh MODEL OUT.jsonl CONFIG...
#   CONFIG: METHOD:RATIO[:EPOCHS[:FACTOR_DTYPE]]   e.g. svd:0.8  aa-svd:0.6:25  aa-svd:0.6:0:bf16
set -euo pipefail
WORK_ROOT=${LMP_LR_WORK:-/tmp/lmp-lowrank}
source "$(dirname "$0")/table_common.sh"
shift 2
for cfg in "$@"; do
  IFS=: read -r method ratio epochs dtype <<< "$cfg"
  epochs=${epochs:-0}; dtype=${dtype:-f32}
  dir="$work/$method-$ratio-e$epochs-$dtype"
  compress_and_eval "$dir" --method "$method" --ratio "$ratio" --factor-dtype "$dtype" --refine-epochs "$epochs" \
    --calib "$SHARED/reference/calib_128x512.safetensors"
  python3 - "$model" "$cfg" "$dir" >> "$out" <<'PY'
import json, re, sys
model, cfg, d = sys.argv[1:]
c = json.load(open(d + ".compress.json")); e = json.load(open(d + ".eval.json"))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(d + ".compress.time").read()).group(1))
ref = c.get("refine", {}).get("blocks", [])
print(json.dumps({"model": model, "config": cfg, "ppl": e["ppl"], "bpw_disk": c["bpw"], "linear_bytes": c["linear_bytes"],
                  "file_bytes": c["file_bytes"], "params_kept": c["bpw_ideal_total"] / 32, "compress_s": c["seconds"],
                  "refine_s": sum(b["seconds"] for b in ref), "compress_peak_rss_mb": rss / 1024,
                  "eval_tok_s": e["tokens_per_second"], "eval_peak_rss_mb": e["peak_rss_mb"]}))
PY
  tail -1 "$out"
done
