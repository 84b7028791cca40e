#!/usr/bin/env bash
# Prepares .carry/ (git-ignored) with what GPU machines lack: GoogleTest sources from Debian and
# a Google Benchmark install built here, so they travel with the tree to a GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .carry
[ -d .carry/googletest ] || cp -r /usr/src/googletest .carry/googletest
if [ ! -d .carry/benchmark ] && [ -f /usr/lib/x86_64-linux-gnu/libbenchmark.a ]; then
  mkdir -p .carry/benchmark/lib/cmake .carry/benchmark/include
  cp -r /usr/include/benchmark .carry/benchmark/include/
  cp /usr/lib/x86_64-linux-gnu/libbenchmark.a /usr/lib/x86_64-linux-gnu/libbenchmark_main.a .carry/benchmark/lib/
  cp -r /usr/lib/x86_64-linux-gnu/cmake/benchmark .carry/benchmark/lib/cmake/
  sed -i 's|/usr/lib/x86_64-linux-gnu|${_IMPORT_PREFIX}/lib|g; s|/usr/include|${_IMPORT_PREFIX}/include|g' .carry/benchmark/lib/cmake/benchmark/*.cmake
fi
echo "carry: .carry"
