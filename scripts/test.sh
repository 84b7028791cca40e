#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds facet (the CUDA code too when the toolkit is present,
# so it cannot rot even where no GPU exists) and runs the whole test suite with ctest.
# GPU tests are reported as skipped on machines without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/check-tree.sh    # no media or bytecode tracked outside tests/fixtures/
bash scripts/setup-deps.sh --with-browser   # Chromium: the mask editor's page is tested in a real browser
bash scripts/fetch-assets.sh   # face models + sample videos for the golden and video tests
BUILD=${FACET_BUILD_DIR:-build}
JOBS=${FACET_JOBS:-$(nproc)}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release ${FACET_CMAKE_ARGS:-}
cmake --build "$BUILD" -j "$JOBS"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" --timeout 1500

# FACET_SANITIZE_GPU_TESTS=1 (CI sets it): the GPU tests once more on the emulated device under
# AddressSanitizer and UBSan (engine only), so an out-of-bounds index in a kernel is reported at
# its line. Needs the CUDA headers. Left out there: the three MediaPipe nets and the bf16 training
# of a whole model, which take over ten minutes each under ASan on 2 cores and whose kernels the
# op-parity table, the tiny TFLite graphs and the f32 training steps all run sanitized anyway.
SANITIZE_SKIP='GpuTfliteModels|SaehdBf16ComputeTracksF32CpuAndTrains'
if [ -f /usr/local/cuda/include/cuda_runtime.h ] && [ "${FACET_SANITIZE_GPU_TESTS:-0}" = 1 ]; then
  SAN="${BUILD}-sanitize"
  cmake -S . -B "$SAN" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACET_CUDA=EMULATED -DFACET_PIPELINE=OFF \
        -DFACET_BENCH=OFF -DFACET_SANITIZE=address,undefined ${FACET_CMAKE_ARGS:-}
  cmake --build "$SAN" -j "$JOBS"
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$SAN" --output-on-failure -j "$JOBS" --timeout 1500 -L 'gpu|emu' -E "$SANITIZE_SKIP"
elif [ "${FACET_SANITIZE_GPU_TESTS:-0}" = 1 ]; then
  echo "facet: no CUDA headers, so no sanitizer run of the GPU tests on the emulated device"
fi
