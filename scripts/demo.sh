#!/usr/bin/env bash
# demo.sh: the main job on the embedded default model, end to end (what `make demo` runs):
#   1. synthetic TextVQA-, DocVQA- and OCRBench-like evaluation sets (`sparsemm synth`, eval split,
#      seed 0: no image shared with the model's training data, see tools/train_tiny/);
#   2. a sweep of the shipped model over fullkv, snapkv, pyramidkv, adakv and sparsemm at four
#      budgets into results/demo.sqlite (resumable: rerunning continues where it stopped);
#   3. the paper's figures in plots/out/ and the tables in results/demo.md.
# Environment: DEMO_N (samples per dataset, default 60), DEMO_BUDGETS (default 16,32,64,128),
# SPARSEMM_THREADS (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

MODEL=models/tiny-llava
N=${DEMO_N:-60}
BUDGETS=${DEMO_BUDGETS:-16,32,64,128}
S=build/sparsemm
DATA=demo/data
DB=results/demo.sqlite
. scripts/synth-options.sh

[ -f "$MODEL/config.json" ] || { echo "demo: $MODEL is missing (see tools/train_tiny/README.md)" >&2; exit 1; }

echo "== 1/3 synthetic evaluation sets ($N questions each) in $DATA"
for k in textvqa docvqa ocrbench; do
  # shellcheck disable=SC2046
  $S synth --kind "$k" --n "$N" --seed 0 --split eval $(synth_opts "$k") --out "$DATA/$k" --quiet
done

echo "== 2/3 sweep: 5 methods x budgets $BUDGETS x 3 datasets -> $DB"
# The model's prompts are ~390 tokens (256 visual), so the official 32-token window would be
# most of a 16..64 budget: the demo uses an 8-token window for every method.
mkdir -p results
$S sweep --model "$MODEL" \
  --data "textvqa=$DATA/textvqa/TextVQA_0.5.1_val.json:max_new_tokens=16" \
  --data "docvqa=$DATA/docvqa/val_v1.0.json" \
  --data "ocrbench=$DATA/ocrbench/OCRBench.json:max_new_tokens=32" \
  --methods fullkv,snapkv,pyramidkv,adakv,sparsemm --budgets "$BUDGETS" --param window=8 \
  --db "$DB" ${SPARSEMM_THREADS:+--threads "$SPARSEMM_THREADS"}

echo "== 3/3 figures and tables"
$S plot --db "$DB" --out plots/out --format png,pdf
$S plot --heads "$MODEL/visual_heads.json" --out plots/out --format png,pdf
$S report --db "$DB" --format markdown | tee results/demo.md

end=$(date +%s)
echo
echo "demo finished in $(( (end - start) / 60 ))m$(( (end - start) % 60 ))s: $DB, results/demo.md, plots/out/*.png"
