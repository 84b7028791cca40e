#!/usr/bin/env bash
# On a GPU machine without OpenCV/FFmpeg: build the engine only, run the GPU-labelled tests, the
# CUDA benches, and compute-sanitizer over the parity suite. Prints a summary to paste into
# docs/perf.md. GoogleTest / Google Benchmark may be missing there: point FACET_GTEST_SOURCE_DIR
# at a copy of Debian's /usr/src/googletest (scripts/gpu-carry.sh prepares .carry/).
# Training speed: bench_train_step's df128 f32/bf16 rows and the PyTorch reference.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${FACET_BUILD_DIR:-build-gpu}
GTEST_SRC=${FACET_GTEST_SOURCE_DIR:-$PWD/.carry/googletest}
extra=()
[ -d "$GTEST_SRC" ] && extra+=("-DFACET_GTEST_SOURCE_DIR=$GTEST_SRC")
[ -d "$PWD/.carry/benchmark" ] && extra+=("-Dbenchmark_DIR=$PWD/.carry/benchmark/lib/cmake/benchmark")
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S . -B "$BUILD" "${gen[@]}" -DFACET_PIPELINE=OFF -DFACET_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=${FACET_CUDA_ARCH:-90} "${extra[@]}" || exit 1
cmake --build "$BUILD" -j "$(nproc)" || exit 1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
date -u +"date: %Y-%m-%d %H:%M UTC"
ctest --test-dir "$BUILD" -L gpu --output-on-failure -j 1
rc=$?
if command -v compute-sanitizer >/dev/null; then
  compute-sanitizer --tool memcheck --error-exitcode 3 "$BUILD/tests/facet_gpu_tests" --gtest_brief=1 || rc=3
fi
for b in "$BUILD"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_min_time=0.2 --benchmark_filter="${FACET_BENCH_FILTER:-.}" || rc=4
done
# The training-speed target in the same run: bench_train_step (above) times df-ud 128 at batch 8 per side
# in f32 and bf16 with on-device augmentation; the PyTorch reference times the same model, loss
# and optimizer on ready batches (no augmentation), so facet's number is the conservative one.
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "== PyTorch reference: bench/reference/df_pytorch.py --batch 8 --iters 100"
  python3 bench/reference/df_pytorch.py --batch 8 --iters 100 || rc=5
else
  echo "== PyTorch with CUDA not found: reference not run"
fi
exit $rc
