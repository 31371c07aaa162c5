#!/usr/bin/env bash
# Rate–distortion of EntQuant (and entropy-coded RTN/GPTQ) in the lmp format: for each config,
# compress MODEL --format lmp, then perplexity on heldout_dev (window protocol, ctx 512). Bits per weight
# are bytes on disk (the compress report's `bpw` and `bpw_file`); peak RSS from /usr/bin/time -v.
# usage: bench/entquant_rd.sh MODEL_NAME OUT.jsonl CONFIG...   (CONFIG: eq:L, lbfgs:L, tb:B, rtn:BITS, gptq:BITS)
set -euo pipefail
WORK_ROOT=${LMP_RD_WORK:-/tmp/lmp-rd}
source "$(dirname "$0")/table_common.sh"
shift 2
for cfg in "$@"; do
  kind=${cfg%%:*}; val=${cfg#*:}; dir="$work/$kind-$val"
  case $kind in
    eq) args=(--method entquant --lambda "$val") ;;
    lbfgs) args=(--method entquant --optimizer lbfgs --lambda "$val") ;;
    tb) args=(--method entquant --target-bpw "$val") ;;
    rtn) args=(--method rtn --bits "$val" --group 128) ;;
    gptq) args=(--method gptq --bits "$val" --group 128 --act-order --calib "$SHARED/reference/calib_128x512.safetensors") ;;
    *) echo "unknown config $cfg" >&2; exit 2 ;;
  esac
  compress_and_eval "$dir" "${args[@]}"
  python3 - "$model" "$cfg" "$dir" >> "$out" <<'PY'
import json, re, sys
model, cfg, d = sys.argv[1:]
c = json.load(open(d + ".compress.json")); e = json.load(open(d + ".eval.json"))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(d + ".compress.time").read()).group(1))
eq = c.get("entquant", {})
lam = eq.get("target_bpw", {}).get("lambda", c["stages"][0].get("lambda"))
print(json.dumps({"model": model, "config": cfg, "lambda": lam, "bpw_disk": c["bpw"], "bpw_file": c["bpw_file"],
                  "bpw_entropy": c.get("bpw_entropy"), "ppl": e["ppl"], "compress_s": c["seconds"],
                  "compress_peak_rss_mb": rss / 1024, "super_weights": [l["linear"] for l in eq.get("super_weight_layers", [])]}))
PY
  tail -1 "$out"
done
