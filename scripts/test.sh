#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds facet (the CUDA code too when the toolkit is present,
# so it cannot rot even where no GPU exists) and runs the whole test suite with ctest.
# GPU tests are reported as skipped on machines without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/check-tree.sh    # no media or bytecode tracked outside tests/fixtures/
bash scripts/setup-deps.sh
bash scripts/fetch-assets.sh   # face models + sample videos for the golden and video tests
BUILD=${FACET_BUILD_DIR:-build}
JOBS=${FACET_JOBS:-$(nproc)}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release ${FACET_CMAKE_ARGS:-}
cmake --build "$BUILD" -j "$JOBS"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" --timeout 1500
