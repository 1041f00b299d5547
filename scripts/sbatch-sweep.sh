#!/usr/bin/env bash
# sbatch-sweep.sh: a sparsemm sweep as a Slurm job array (one shard per array task), followed by
# a merge job that joins the shard databases and draws the report and the figures.
#
# Each array task runs `sparsemm sweep ... --shard i/n --db results/shard-i.sqlite`, which takes a
# deterministic 1/n of the (method, budget, dataset, sample) work. A task that dies (time
# limit, node failure, scancel) can simply be resubmitted: the sweep resumes from its database
# and never recomputes or duplicates a finished sample. The merge matches runs by their
# configuration key, and refuses (changing nothing) when two shards hold different results for
# one (run, sample).
#
# Submit both steps at once (prints the two job ids):
#   scripts/sbatch-sweep.sh submit 8
# or by hand:
#   sbatch --array=0-7 scripts/sbatch-sweep.sh                        # the shards
#   sbatch --dependency=afterok:<ARRAY_JOB_ID> scripts/sbatch-sweep.sh merge
#
# afterok waits for every array task to succeed. If some failed, resubmit the whole array with
# the same range and SWEEP_ARGS (the shard number and count come from it): finished shards find
# all their samples done and exit at once, the others resume. Then submit the merge.
#
# What to sweep comes from the environment (exported to the jobs by sbatch's default
# --export=ALL):
#   SWEEP_ARGS   everything after `sparsemm sweep` except --shard and --db, e.g.
#                "--model /models/llava-v1.6-vicuna-7b --data textvqa=/data/TextVQA_0.5.1_val.json
#                 --methods fullkv,snapkv,pyramidkv,adakv,sparsemm --budgets 64,128,256,512,1024,2048"
#                or "--experiment experiments/ablation.json"
#   SPARSEMM     the binary (default build/sparsemm in the submission directory)
#   RESULTS_DIR  where shard-<i>.sqlite and runs.sqlite go (default results)
#
# Storage: the databases use SQLite's WAL mode, which needs POSIX locks and shared memory maps
# on the folder that holds them. Lustre and GPFS provide both; some NFS mounts do not (SQLite
# then reports "database is locked" or I/O errors): point RESULTS_DIR at a filesystem that does.
#
#SBATCH --job-name=sparsemm-sweep
#SBATCH --output=slurm-%x-%A_%a.out
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=16
#SBATCH --mem=64G
#SBATCH --time=24:00:00
# For the CUDA backend add: #SBATCH --gres=gpu:1 (and --backend cuda in SWEEP_ARGS).
set -euo pipefail

SPARSEMM=${SPARSEMM:-build/sparsemm}
RESULTS_DIR=${RESULTS_DIR:-results}
SWEEP_ARGS=${SWEEP_ARGS:-}

submit() {
  local n=${1:?usage: $0 submit N_SHARDS}
  [ -n "$SWEEP_ARGS" ] || { echo "sbatch-sweep: set SWEEP_ARGS (see the top of $0)" >&2; exit 2; }
  local array_job merge_job
  array_job=$(sbatch --parsable --array=0-$((n - 1)) "$0")
  merge_job=$(sbatch --parsable --job-name=sparsemm-merge --cpus-per-task=1 --mem=8G --time=1:00:00 \
    --dependency=afterok:"${array_job%%;*}" "$0" merge)
  echo "shards: job array $array_job ($n tasks); merge: job $merge_job"
}

shard() {
  : "${SLURM_ARRAY_TASK_ID:?not a job-array task: submit with sbatch --array=0-N (or: $0 submit N)}"
  [ -n "$SWEEP_ARGS" ] || { echo "sbatch-sweep: set SWEEP_ARGS (see the top of $0)" >&2; exit 2; }
  # Shard numbers start at 0 whatever the --array range starts at.
  local i=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0})) n=${SLURM_ARRAY_TASK_COUNT:?}
  mkdir -p "$RESULTS_DIR"
  # SWEEP_ARGS is split into words on purpose: it holds several options.
  # shellcheck disable=SC2086
  exec "$SPARSEMM" sweep $SWEEP_ARGS --threads "${SLURM_CPUS_PER_TASK:-1}" \
    --shard "$i/$n" --db "$RESULTS_DIR/shard-$i.sqlite"
}

merge() {
  shopt -s nullglob
  local shards=("$RESULTS_DIR"/shard-*.sqlite)
  [ ${#shards[@]} -gt 0 ] || { echo "sbatch-sweep: no $RESULTS_DIR/shard-*.sqlite to merge" >&2; exit 1; }
  "$SPARSEMM" merge "${shards[@]}" --into "$RESULTS_DIR/runs.sqlite"
  "$SPARSEMM" report --db "$RESULTS_DIR/runs.sqlite" --out "$RESULTS_DIR/report.md"
  "$SPARSEMM" report --db "$RESULTS_DIR/runs.sqlite" --format csv --out "$RESULTS_DIR/report.csv"
  "$SPARSEMM" plot --db "$RESULTS_DIR/runs.sqlite" --out "$RESULTS_DIR/plots"
}

case "${1:-shard}" in
  submit) shift; submit "$@" ;;
  merge) merge ;;
  shard) shard ;;
  *) echo "usage: $0 [submit N | merge]   (as an array task: no argument)" >&2; exit 2 ;;
esac
