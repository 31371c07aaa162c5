# Shared by the table scripts (entquant_rd.sh, lowrank_table.sh): sourced after `set -euo pipefail`.
# Sets LMP, SHARED, model, out and work (WORK_ROOT/model) from "$1 $2" and the environment, and defines
# compress_and_eval DIR ARGS...: compress MODEL into DIR --format lmp with ARGS under /usr/bin/time -v,
# then perplexity on heldout_dev (window protocol, ctx 512). It leaves DIR.compress.json,
# DIR.compress.time (peak RSS) and DIR.eval.json for the caller's summary row.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LMP=${LMPRESS:-build/lmpress}
SHARED=${LMP_SHARED:-../shared}
model=$1; out=$2
work=$WORK_ROOT/$model
mkdir -p "$work"

compress_and_eval() {
  local dir=$1; shift
  /usr/bin/time -v "$LMP" compress "$SHARED/models/$model" -o "$dir" "$@" --format lmp --force --json -q \
    > "$dir.compress.json" 2> "$dir.compress.time"
  "$LMP" eval "$dir" --text "$SHARED/data/corpus/heldout_dev.jsonl" --ctx 512 --json -q > "$dir.eval.json"
}
