#!/usr/bin/env bash
# The main job on the bundled samples: scan each sample scene, write its hotspots to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo build --release --quiet
mkdir -p out
shopt -s nullglob
scenes=(samples/*.tif)
[ ${#scenes[@]} -gt 0 ] || { echo "no sample scenes in samples/" >&2; exit 1; }
for scene in "${scenes[@]}"; do
  name=$(basename "$scene" .tif)
  ./target/release/strawfire scan "$scene" -o "out/$name.hotspots.csv"
  ./target/release/strawfire scan "$scene" --format geojson -q -o "out/$name.hotspots.geojson"
  echo "  -> out/$name.hotspots.csv, out/$name.hotspots.geojson" >&2
done
