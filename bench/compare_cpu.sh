#!/usr/bin/env bash
# facet's CPU training step against PyTorch's on the same DF-UD networks, side by side:
# `facet bench train --cpu --no-augment` and bench/reference/df_pytorch.py --device cpu --fp32
# (PyTorch runs its convolutions on oneDNN), interleaved over several rounds with the same thread
# count, on the tiny, quick96 and df128 presets at batch 4 and 8. Prints each side's median
# ms/iteration (and range over the rounds) and facet's speed relative to PyTorch (> 1: faster).
# On a CPU with native bf16 (AVX512_BF16 / AMX) facet's `--precision bf16` runs too, beside
# PyTorch's f32 (its reference script has no CPU bf16 mode).
#
# Usage: bash bench/compare_cpu.sh            (all rows; slow on a small machine)
#   ROWS="tiny:4 quick96:4"  rows to run (preset:batch)
#   ROUNDS=3                 interleaved rounds per row
#   THREADS=$(nproc)         threads for both (OpenBLAS, OpenMP / oneDNN, torch)
#   FACET=build/bin/facet    the facet binary
#   PYTHON=/usr/bin/python3  the Python that has Debian's torch
# Installs python3-torch (Debian) when it is missing. Each run's loss must be finite, or the row
# is reported as failed instead of timed.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-"tiny:4 tiny:8 quick96:4 quick96:8 df128:4 df128:8"}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-$(nproc)}
FACET=${FACET:-build/bin/facet}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$FACET" ] || { echo "compare_cpu: $FACET not found (build the facet target first)" >&2; exit 1; }

if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "compare_cpu: installing python3-torch"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi

# The presets' network sizes (engine/models/saehd_options.cpp), as df_pytorch.py takes them.
torch_args() {
  case "$1" in
    tiny) echo "--res 64 --ae 64 --e 16 --d 16 --m 8" ;;
    quick96) echo "--res 96 --ae 128 --e 64 --d 64 --m 16" ;;
    df128) echo "--res 128 --ae 256 --e 64 --d 64 --m 22" ;;
    *) echo "compare_cpu: unknown preset $1" >&2; exit 1 ;;
  esac
}
# Timed iterations per run: enough to average over a few steps, few enough to finish.
iters_for() {
  case "$1" in tiny) echo 10 ;; quick96) echo 4 ;; *) echo 3 ;; esac
}

export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run_one side preset batch round: appends "ms" (or "fail") to $out/side.preset.batch
run_one() {
  local side=$1 preset=$2 batch=$3 iters log ms loss
  iters=$(iters_for "$preset")
  log="$out/$side.$preset.$batch.log"
  if [ "$side" = facet ] || [ "$side" = facet_bf16 ]; then
    local precision=f32
    [ "$side" = facet_bf16 ] && precision=bf16
    "$FACET" bench train --cpu --no-augment --precision "$precision" --preset "$preset" --batch "$batch" \
      --iters "$iters" --warmup 1 >"$log" 2>&1 || true
    ms=$(awk '/^ms\/iteration/ {print $2}' "$log")
    loss=$(awk '/loss/ {for (i = 1; i <= NF; ++i) if ($i ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) {print $i; exit}}' "$log")
  else
    # shellcheck disable=SC2046
    "$PYTHON" bench/reference/df_pytorch.py --device cpu --fp32 $(torch_args "$preset") --batch "$batch" \
      --iters "$iters" --warmup 1 >"$log" 2>&1 || true
    ms=$(awk '/^ms\/iteration/ {print $2}' "$log")
    loss=$(awk '/^last loss/ {print $4}' "$log")
  fi
  if [ -z "$ms" ] || [ -z "$loss" ] || ! awk -v l="$loss" 'BEGIN { exit !(l == l + 0 && l < 1e30) }'; then
    echo "compare_cpu: $side $preset batch $batch failed or gave no finite loss; its log:" >&2
    tail -5 "$log" >&2
    echo fail >>"$out/$side.$preset.$batch"
  else
    echo "$ms" >>"$out/$side.$preset.$batch"
  fi
}

# median, min and max of a file of numbers ("fail" if any run failed)
stats() {
  if grep -q fail "$1"; then echo "fail fail fail"; return; fi
  sort -g "$1" | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                         printf "%.1f %.1f %.1f\n", m, v[1], v[NR]}'
}

echo "compare_cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
     "$THREADS threads, $ROUNDS rounds, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
# bf16 rows where the CPU multiplies bf16 natively (facet refuses --precision bf16 elsewhere).
BF16=0
"$FACET" bench train --cpu --no-augment --precision bf16 --preset tiny --batch 1 --iters 1 --warmup 1 >/dev/null 2>&1 && BF16=1
echo "compare_cpu: facet's $("$FACET" bench train --cpu --no-augment --preset tiny --batch 1 --iters 1 --warmup 0 2>&1 | grep -m1 '^cpu pool')"
for round in $(seq "$ROUNDS"); do
  for row in $ROWS; do
    preset=${row%%:*} batch=${row##*:}
    echo "compare_cpu: round $round/$ROUNDS $preset batch $batch" >&2
    run_one facet "$preset" "$batch"
    [ "$BF16" = 1 ] && run_one facet_bf16 "$preset" "$batch"
    run_one torch "$preset" "$batch"
  done
done

ratio() { awk -v f="$1" -v t="$2" 'BEGIN { if (f == "fail" || t == "fail") print "n/a"; else printf "%.2fx", t / f }'; }
if [ "$BF16" = 1 ]; then
  printf '\n| model | batch/side | facet f32 ms/iteration (median, range) | facet bf16 ms/iteration | PyTorch f32 ms/iteration | facet f32 speed vs PyTorch | facet bf16 speed vs PyTorch f32 |\n'
  printf '|---|---|---|---|---|---|---|\n'
else
  printf '\n| model | batch/side | facet ms/iteration (median, range) | PyTorch ms/iteration (median, range) | facet speed vs PyTorch |\n'
  printf '|---|---|---|---|---|\n'
fi
for row in $ROWS; do
  preset=${row%%:*} batch=${row##*:}
  read -r fm fl fh < <(stats "$out/facet.$preset.$batch")
  read -r tm tl th < <(stats "$out/torch.$preset.$batch")
  if [ "$BF16" = 1 ]; then
    read -r bm bl bh < <(stats "$out/facet_bf16.$preset.$batch")
    printf '| %s | %s | %s (%s-%s) | %s (%s-%s) | %s (%s-%s) | %s | %s |\n' "$preset" "$batch" "$fm" "$fl" "$fh" \
      "$bm" "$bl" "$bh" "$tm" "$tl" "$th" "$(ratio "$fm" "$tm")" "$(ratio "$bm" "$tm")"
  else
    printf '| %s | %s | %s (%s-%s) | %s (%s-%s) | %s |\n' "$preset" "$batch" "$fm" "$fl" "$fh" "$tm" "$tl" "$th" \
      "$(ratio "$fm" "$tm")"
  fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
