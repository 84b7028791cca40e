#!/usr/bin/env bash
# Refuses a repository that tracks images, videos or Python bytecode outside tests/fixtures/: the
# tree holds sources, docs and small test fixtures only, and outputs go to ignored folders
# (.gitignore). Prints each offending file and exits 1; exits 0 when the tree is clean.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check-tree: not a git checkout, nothing to check"
  exit 0
fi
media='\.(png|jpe?g|gif|bmp|tiff?|webp|mp4|mkv|avi|mov|webm|m4v|pyc|pyo)$'
bad=$(git ls-files | grep -Ei "$media|(^|/)__pycache__/" | grep -v '^tests/fixtures/' || true)
if [[ -n "$bad" ]]; then
  echo "check-tree: git tracks media or bytecode outside tests/fixtures/ (remove them, or move a" >&2
  echo "small fixture under tests/fixtures/):" >&2
  printf '  %s\n' $bad >&2
  exit 1
fi
echo "check-tree: no media or bytecode tracked outside tests/fixtures/"
