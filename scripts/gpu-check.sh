#!/usr/bin/env bash
# On a GPU machine without OpenCV/FFmpeg: build the engine only (or run the one carried from a CPU
# machine), run the GPU-labelled tests, the CUDA benches, and compute-sanitizer over the parity
# suite. Prints a summary to paste into docs/perf.md. GoogleTest / Google Benchmark may be missing
# there: point FACET_GTEST_SOURCE_DIR at a copy of Debian's /usr/src/googletest
# (scripts/gpu-carry.sh prepares .carry/). Where .carry/prebuilt.tar.xz exists
# (scripts/gpu-carry.sh --prebuilt), nothing is built: the carried binaries run against the
# machine's CUDA runtime, cuBLAS and cuDNN, wherever its image keeps them.
# Training speed: bench_train_step's df128 f32/bf16 rows and the PyTorch reference, eager and
# torch.compile.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${FACET_BUILD_DIR:-build-gpu}
export FACET_ASSETS=${FACET_ASSETS:-$PWD/assets}
if [ -f .carry/prebuilt.tar.xz ]; then
  read -r built_at checkout_at < .carry/prebuilt.paths
  mkdir -p "$(dirname "$checkout_at")"
  [ -e "$checkout_at" ] || ln -s "$PWD" "$checkout_at"
  rm -rf "$built_at" && (cd / && tar -xJf "$OLDPWD/.carry/prebuilt.tar.xz") || exit 1
  tar -xJf .carry/lib.tar.xz -C /tmp || exit 1
  BUILD=$built_at
  cuda_dirs=$(find /usr /opt /lib /lib64 \( -name 'libcudnn.so.9' -o -name 'libcublasLt.so.13' -o -name 'libcudart.so.13' \) \
    -not -path "$PWD/*" 2>/dev/null | xargs -r -n1 dirname | sort -u | paste -sd:)
  export LD_LIBRARY_PATH=/tmp/lib:$cuda_dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "prebuilt: $BUILD; libraries from $LD_LIBRARY_PATH"
  ldd "$BUILD/tests/facet_gpu_tests" | grep -E 'not found|cud|blas' || true
else
  GTEST_SRC=${FACET_GTEST_SOURCE_DIR:-$PWD/.carry/googletest}
  extra=()
  [ -d "$GTEST_SRC" ] && extra+=("-DFACET_GTEST_SOURCE_DIR=$GTEST_SRC")
  [ -d "$PWD/.carry/benchmark" ] && extra+=("-Dbenchmark_DIR=$PWD/.carry/benchmark/lib/cmake/benchmark")
  gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S . -B "$BUILD" "${gen[@]}" -DFACET_PIPELINE=OFF -DFACET_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES=${FACET_CUDA_ARCH:-90} "${extra[@]}" || exit 1
  cmake --build "$BUILD" -j "$(nproc)" || exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
date -u +"date: %Y-%m-%d %H:%M UTC"
ctest --test-dir "$BUILD" -L gpu --output-on-failure -j "${FACET_CTEST_JOBS:-1}" --timeout 300
rc=$?
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
  echo "== PyTorch reference, fp32: --batch 8 --iters 50 --fp32"
  python3 bench/reference/df_pytorch.py --batch 8 --iters 50 --fp32 || rc=5
  echo "== PyTorch reference, torch.compile: --batch 8 --iters 100 --compile"
  timeout "${FACET_COMPILE_TIMEOUT:-300}" python3 bench/reference/df_pytorch.py --batch 8 --iters 100 --compile || rc=5
else
  echo "== PyTorch with CUDA not found: reference not run"
fi
# Last, as it is the slowest: compute-sanitizer's memcheck over the GPU parity suite, less the
# tests that provoke a failed allocation or a device fault on purpose.
if command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer memcheck: facet_gpu_tests"
  timeout ${FACET_SANITIZER_TIMEOUT:-600} compute-sanitizer --tool memcheck --error-exitcode 3 --print-limit 20 \
    "$BUILD/tests/facet_gpu_tests" --gtest_brief=1 \
    --gtest_filter='-GpuContext.FailedAllocationLeavesNoStaleErrorForTheNextKernel:GpuContext.ClosesWithoutThrowingAfterAFaultingKernel' || rc=3
fi
exit $rc
