#!/usr/bin/env bash
# Seeds the loader's corpus with every shipped scenario joined to its model by a NUL,
# the scenario's model path rewritten to `model.ron` as the fuzz target expects.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/corpus/loader"
mkdir -p "$out"
for scenario in "$here"/../scenarios/*.ron; do
  model=$(sed -n 's/^ *model: "\([^"]*\)".*/\1/p' "$scenario" | head -n1)
  [ -n "$model" ] || continue
  name=$(basename "$scenario" .ron)
  { sed "s|model: \"$model\"|model: \"model.ron\"|" "$scenario"; printf '\0'; cat "$(dirname "$scenario")/$model"; } > "$out/$name"
done
echo "$(ls "$out" | wc -l) seeds in $out"
