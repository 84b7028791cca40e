#!/usr/bin/env bash
# Installs the Debian packages facet needs to build and test: the engine's (BLAS, oneDNN, JSON, GoogleTest,
# Google Benchmark, Boost.Context for the emulated CUDA device's fibers), the pipeline's (OpenCV,
# FFmpeg libraries and CLI, cpp-httplib for `facet mask edit`) and npm for the assets.
# Debian's oneDNN is built with its OpenCL GPU runtime, so its CMake package asks for OpenCL's
# headers and library (only recommended by libdnnl-dev, hence listed here).
# --with-browser adds Chromium, which the tests drive headless to test the mask editor's page.
# Safe to re-run: packages already installed are skipped. Needs root (or sudo) on Debian 12.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config git
      libopenblas-dev libopenblas-openmp-dev libdnnl-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
      ocl-icd-opencl-dev opencl-c-headers
      libgtest-dev libbenchmark-dev
      libboost-context-dev
      libopencv-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libswresample-dev
      ffmpeg libcpp-httplib-dev)
if [ "${1:-}" = "--with-browser" ]; then pkgs+=(chromium); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "facet: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v npm >/dev/null || echo "facet: npm not found; scripts/fetch-assets.sh will install it"
if [ ! -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null; then
  echo "facet: no CUDA toolkit found; building the CPU backend only (FACET_CUDA=AUTO)"
fi
