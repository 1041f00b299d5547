#!/usr/bin/env bash
# Generate the training and held-out data of the embedded model with `sparsemm synth`.
# Usage: tools/train_tiny/make_data.sh OUT_DIR   (from the repository root, after `make`)
# Training data uses --split train with seed 1000; the held-out split used during training is
# --split eval with seed 2000; the evaluation sets of the demo and the model card use
# --split eval with seed 0 (scripts/demo.sh), so no image is shared between them.
set -euo pipefail
OUT=${1:?usage: $0 OUT_DIR}
S=build/sparsemm
. scripts/synth-options.sh
$S synth --kind textvqa  --n 40000 --seed 1000 --split train $(synth_opts textvqa) --out "$OUT/train/textvqa" --quiet
$S synth --kind docvqa   --n 40000 --seed 1000 --split train $(synth_opts docvqa) --per-image 2 --out "$OUT/train/docvqa" --quiet
$S synth --kind ocrbench --n 30000 --seed 1000 --split train $(synth_opts ocrbench) --out "$OUT/train/ocrbench" --quiet
$S synth --kind synthdog --n 8000 --seed 1000 --split train $(synth_opts synthdog) --out "$OUT/train/synthdog" --quiet
for k in textvqa docvqa ocrbench synthdog; do
  $S synth --kind $k --n 200 --seed 2000 --split eval $(synth_opts $k) --out "$OUT/heldout/$k" --quiet
done
echo "data in $OUT: $(find "$OUT" -type f | wc -l) files, $(du -sh "$OUT" | cut -f1)"
