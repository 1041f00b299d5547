#!/usr/bin/env bash
# gpu-check.sh: everything about the CUDA backend that needs a real NVIDIA GPU, in one command,
# with a markdown report. Run it from the repository root on a machine with a GPU:
#
#   bash scripts/gpu-check.sh [REPORT]          (default report: build/cuda/gpu-check.md)
#
# Steps, each recorded as PASS / FAIL / SKIP with the tail of its log:
#   device       nvidia-smi: the GPU and driver
#   build        make CUDA=1 (into build/cuda) and make cuda-check (sm_80 + sm_90, warnings as errors)
#   tests        make test-cuda: the cross-backend op tests, the GEMM wrapper against real cuBLAS,
#                the golden checkpoints on the GPU against the CPU and transformers (32 steps),
#                and every method's kept rows agreeing with the CPU
#   sanitizer    compute-sanitizer memcheck, racecheck, synccheck and initcheck over the op and
#                GEMM tests (what the emulator cannot see: races, device out-of-bounds)
#   generate     sparsemm generate --backend cuda on a golden checkpoint, with SPARSEMM_CUDA_PROFILE=1
#                (per-op CUDA event timings) and a method, against the same run on the CPU
#   bench        sparsemm bench --backend cuda, when the build has the bench command
# Exits non-zero if any step failed. Logs are kept next to the report.
set -u
cd "$(dirname "$0")/.."
REPORT=${1:-build/cuda/gpu-check.md}
LOGS=$(dirname "$REPORT")/gpu-check-logs
mkdir -p "$LOGS"
BIN=build/cuda/sparsemm
MODEL=tests/fixtures/golden/llava_gqa
failed=0

{
  echo "# sparsemm GPU check"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: $(git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "- host: $(uname -srm)"
  echo
} > "$REPORT"

# step NAME COMMAND...: run, log, record the outcome. Exit status 77 means "skipped".
step() {
  local name=$1; shift
  local log="$LOGS/$name.log" t0=$SECONDS rc
  echo "== $name: $*" >&2
  "$@" > "$log" 2>&1; rc=$?
  local verdict=PASS
  [ $rc -eq 77 ] && verdict=SKIP
  [ $rc -ne 0 ] && [ $rc -ne 77 ] && { verdict=FAIL; failed=1; }
  {
    echo "## $name: $verdict ($((SECONDS - t0)) s)"
    echo
    echo '```'
    echo "\$ $*"
    tail -n 40 "$log"
    echo '```'
    echo
  } >> "$REPORT"
  echo "   $verdict" >&2
}

device() {
  command -v nvidia-smi >/dev/null || { echo "nvidia-smi not found: no NVIDIA driver"; return 77; }
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv && nvidia-smi
}

build() { make -j"$(nproc)" CUDA=1 BUILD=build/cuda build/cuda/sparsemm && make cuda-check; }

tests() { make CUDA=1 test-cuda; }

sanitizer() {
  local cs
  cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null) ||
    { echo "compute-sanitizer not found"; return 77; }
  local rc=0
  for tool in memcheck racecheck synccheck initcheck; do
    for t in test_backend_ops test_cuda_gemm; do
      echo "--- $tool $t"
      "$cs" --tool "$tool" --error-exitcode 1 "build/cuda/tests/$t" || rc=1
    done
  done
  return $rc
}

generate() {
  local q="What is written in the image?" rc=0
  for be in cpu cuda; do
    echo "--- $be"
    SPARSEMM_CUDA_PROFILE=1 "$BIN" generate --backend "$be" --model "$MODEL" --image "$MODEL/image.png" \
      --prompt "$q" --max-new-tokens 16 --json > "$LOGS/generate-$be.json" || rc=1
    cat "$LOGS/generate-$be.json"
    echo "--- $be, snapkv B=48"
    "$BIN" generate --backend "$be" --model "$MODEL" --image "$MODEL/image.png" --prompt "$q" \
      --max-new-tokens 16 --method snapkv --budget 48 --json > "$LOGS/generate-$be-snapkv.json" || rc=1
    cat "$LOGS/generate-$be-snapkv.json"
  done
  [ $rc -eq 0 ] || return $rc
  # the answers must agree across backends (timings differ, so compare the text only)
  for run in "" "-snapkv"; do
    a=$(grep -o '"answer":"[^"]*"' "$LOGS/generate-cpu$run.json")
    b=$(grep -o '"answer":"[^"]*"' "$LOGS/generate-cuda$run.json")
    if [ "$a" != "$b" ]; then echo "answers differ$run: cpu $a, cuda $b"; return 1; fi
  done
  echo "cpu and cuda give the same answers, with and without snapkv"
}

bench() {
  "$BIN" bench --help >/dev/null 2>&1 || { echo "this build has no bench command"; return 77; }
  "$BIN" bench --backend cuda --random-weights llama2-7b --context 2048,8192,32768 --budget 256 --steps 50
}

no_gpu() { echo "no GPU (the device step was skipped)"; return 77; }

step device device
gpu=$(grep -q '^## device: PASS' "$REPORT" && echo 1 || echo 0)
step build build
if [ $failed -eq 0 ]; then
  step tests tests                     # without a GPU: proves the CUDA=1 build links and skips cleanly
  if [ "$gpu" = 1 ]; then
    step sanitizer sanitizer
    step generate generate
    step bench bench
  else
    for s in sanitizer generate bench; do step "$s" no_gpu; done
  fi
fi

echo "Result: $([ $failed -eq 0 ] && echo PASS || echo FAIL)" >> "$REPORT"
echo "report: $REPORT" >&2
exit $failed
