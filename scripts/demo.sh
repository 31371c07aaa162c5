#!/usr/bin/env bash
# `make demo`: the main job on the bundled model (stories260K, GGUF) and its bundled TinyStories sample.
# Until compression lands, the demo inspects, evaluates and samples from the model.
set -euo pipefail
LMPRESS=${1:-build/lmpress}
cd "$(dirname "$0")/.."
MODEL=assets/stories260K/stories260K.gguf
TEXT=assets/tinystories_sample.txt

echo "== lmpress inspect $MODEL"
"$LMPRESS" inspect "$MODEL"
echo
echo "== lmpress eval $MODEL --text $TEXT --ctx 256"
"$LMPRESS" eval "$MODEL" --text "$TEXT" --ctx 256
echo
echo "== lmpress generate (greedy)"
"$LMPRESS" generate "$MODEL" --prompt "Once upon a time" --temperature 0 --max-tokens 60
echo
echo "== lmpress generate (temperature 0.8, top-p 0.95, seed 7)"
"$LMPRESS" generate "$MODEL" --prompt "Lily wanted a puppy" --temperature 0.8 --top-p 0.95 --seed 7 --max-tokens 80
