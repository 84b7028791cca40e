#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds facet and runs its built-in demo (`facet demo`).
# Extra arguments go to `facet demo` (e.g. --train-minutes 2 --workspace /tmp/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
bash scripts/fetch-assets.sh
BUILD=${FACET_BUILD_DIR:-build}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release ${FACET_CMAKE_ARGS:-}
cmake --build "$BUILD" -j "$(nproc)" --target facet
"$BUILD/bin/facet" demo "$@"
