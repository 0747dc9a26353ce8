#!/usr/bin/env bash
# The main job on the bundled samples, with no server: scan each sample scene for fires, locate
# every hotspot to its county, township and field (masking power plants), and rank the counties
# and townships by day; then the same scenes through the store for the fair daily ranking reports.
# Results go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo build --release --quiet
bin=./target/release/strawfire
mkdir -p out
shopt -s nullglob
scenes=(samples/*.tif)
[ ${#scenes[@]} -gt 0 ] || { echo "no sample scenes in samples/" >&2; exit 1; }
hotspots=()
for scene in "${scenes[@]}"; do
  name=$(basename "$scene" .tif)
  "$bin" scan "$scene" -o "out/$name.hotspots.csv"
  "$bin" scan "$scene" --format geojson -q -o "out/$name.hotspots.geojson"
  hotspots+=("out/$name.hotspots.csv")
done
counties="samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=adcode:name=name:crs=gcj02"
townships="samples/admin/henan_hua_townships_generated_gcj02.geojson:level=township:code=code:name=name:parent=county:crs=gcj02"
parcels="samples/admin/henan_hua_parcels_generated_gcj02.geojson:level=parcel:code=parcel_id:parent=township:crs=gcj02"
masks=()
plants=samples/heatsources/henan_north_power_plants.csv
masks=(--mask "$plants:radius_m=1000:reason=power plant")
"$bin" locate --hotspots "${hotspots[@]}" --admin "$counties" --admin "$townships" \
  --parcels "$parcels" "${masks[@]}" -o out/located.csv 2> >(grep -v "no geometry, skipped" >&2)
"$bin" rank --hotspots "${hotspots[@]}" --admin "$counties" --admin "$townships" --level county -o out/rank-county.csv
"$bin" rank --hotspots "${hotspots[@]}" --admin "$counties" --admin "$townships" --level township -o out/rank-township.csv
# The store form: the sample scenes into an embedded store (their cloud masks give each unit's
# clear-sky coverage), then the fair daily ranking of each local day (UTC+8) as a bulletin (通报:
# one self-contained HTML page with its map, and its A4 PDF when Chromium is installed) and as CSV.
"$bin" ingest --data-dir out/data "${scenes[@]}"
for date in 2024-06-08 2024-06-09; do
  "$bin" rank --date "$date" --data-dir out/data --format html -o "out/ranking-$date.html"
  "$bin" rank --date "$date" --data-dir out/data --format csv -o "out/ranking-$date.csv"
  if command -v chromium >/dev/null 2>&1; then
    "$bin" rank --date "$date" --data-dir out/data --pdf "out/ranking-$date.pdf"
  fi
done
echo "results in out/: *.hotspots.csv|geojson (per scene), located.csv, rank-county.csv, rank-township.csv, ranking-<date>.html|pdf|csv (store form, data in out/data)" >&2
column -s, -t < out/rank-county.csv >&2 || cat out/rank-county.csv >&2
