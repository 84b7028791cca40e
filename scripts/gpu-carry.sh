#!/usr/bin/env bash
# Prepares .carry/ (git-ignored) with what GPU machines lack, so that it travels with the tree.
#   default:     GoogleTest sources from Debian and a Google Benchmark install built here, for
#                scripts/gpu-check.sh to build the engine there.
#   --prebuilt:  the engine, its GPU tests and benches built here (CUDA for sm_90, no pipeline, no
#                oneDNN), packed with the CPU libraries they need that a CUDA image lacks (OpenBLAS,
#                libgfortran, libquadmath, libgomp, Google Benchmark). GPU machines without OpenBLAS, nlohmann-json
#                or pkg-config cannot configure the engine; gpu-check.sh then runs the carried
#                binaries against the machine's own CUDA, cuBLAS and cuDNN libraries.
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
if [ "${1:-}" = "--prebuilt" ]; then
  build=${FACET_BUILD_DIR:-build-gpu}
  launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$build" -G Ninja -DFACET_PIPELINE=OFF -DFACET_CUDA=ON -DFACET_ONEDNN=OFF \
    -DFACET_CUDA_EMULATOR=OFF -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=${FACET_CUDA_ARCH:-90} "${launcher[@]}"
  cmake --build "$build"
  abs=$(cd "$build" && pwd)
  # Test binaries carry absolute paths (CTest files, FACET_TEST_SOURCE_DIR): gpu-check.sh unpacks
  # them at the same place and links this checkout's path to the checkout there.
  echo "$abs $PWD" > .carry/prebuilt.paths
  (cd / && find "${abs#/}" \( -name '*.so' -o -name 'CTestTestfile.cmake' -o -name '*_tests.cmake' \
      -o -name '*_include.cmake' -o -path '*/tests/facet_*_tests' -o -path '*/bench/bench_*' \) \
      -not -path '*/CMakeFiles/*' -print0 | tar --null -cJf "$OLDPWD/.carry/prebuilt.tar.xz" -T -)
  rm -rf .carry/lib && mkdir -p .carry/lib
  for lib in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0 libgomp.so.1 libbenchmark.so.1debian; do
    path=$( (ldd "$build/tests/facet_gpu_tests"; ldd "$build/bench/bench_train_step") | awk -v l="$lib" '$1 == l {print $3; exit}')
    [ -n "$path" ] && cp -L "$path" .carry/lib/
  done
  tar -cJf .carry/lib.tar.xz -C .carry lib && rm -rf .carry/lib
  du -sh .carry/prebuilt.tar.xz .carry/lib.tar.xz
fi
echo "carry: .carry"
