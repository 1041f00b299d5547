#!/usr/bin/env bash
# The model card's numbers, measured by the C harness (not by the training script):
#   - full-cache accuracy on the synthetic evaluation splits (--split eval --seed 0, the demo's
#     stream; N questions per benchmark, 500 by default);
#   - how accuracy falls with SnapKV at budgets 16, 32, 64 (window 8, as in the demo);
#   - the visual heads (`sparsemm heads` on held-out synthdog pages) and the share of score mass
#     in the top 10% of heads.
# Usage: tools/train_tiny/evaluate.sh MODEL_DIR WORK_DIR [N]   (from the repository root, after make)
# Writes WORK_DIR/eval.sqlite, WORK_DIR/report.md, WORK_DIR/heads.txt and MODEL_DIR/visual_heads.json.
set -euo pipefail
MODEL=${1:?usage: $0 MODEL_DIR WORK_DIR [N]}
WORK=${2:?usage: $0 MODEL_DIR WORK_DIR [N]}
N=${3:-500}
S=build/sparsemm
. scripts/synth-options.sh
mkdir -p "$WORK"
for k in textvqa docvqa ocrbench; do
  $S synth --kind $k --n "$N" --seed 0 --split eval $(synth_opts $k) --out "$WORK/data/$k" --quiet
done
# Held-out synthdog pages for the head finder (seed 3000: neither training nor the evaluation sets).
$S synth --kind synthdog --n 100 --seed 3000 --split eval $(synth_opts synthdog) --out "$WORK/data/synthdog" --quiet

$S sweep --model "$MODEL" \
  --data "textvqa=$WORK/data/textvqa/TextVQA_0.5.1_val.json:max_new_tokens=16" \
  --data "docvqa=$WORK/data/docvqa/val_v1.0.json" \
  --data "ocrbench=$WORK/data/ocrbench/OCRBench.json:max_new_tokens=32" \
  --methods fullkv,snapkv --budgets 16,32,64 --param window=8 --db "$WORK/eval.sqlite"
$S report --db "$WORK/eval.sqlite" --format markdown | tee "$WORK/report.md"

# A fresh measurement (seconds): the resume log a previous model left next to visual_heads.json
# would otherwise stop `heads` with a model-hash mismatch.
rm -f "$MODEL/visual_heads.json.samples.jsonl"
$S heads --model "$MODEL" --data "synthdog=$WORK/data/synthdog/synthdog-en.json" \
  --out "$MODEL/visual_heads.json" | tee "$WORK/heads.txt"
