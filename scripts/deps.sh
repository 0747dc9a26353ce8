#!/usr/bin/env bash
# Installs the system packages strawfire builds against, when missing (Debian/Ubuntu).
# GDAL (libgdal-dev) brings the raster and vector drivers; pkg-config lets the gdal crate find it.
set -euo pipefail
need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if ! pkg-config --exists gdal 2>/dev/null; then need+=(libgdal-dev); fi
# The store links the system SQLite (not rusqlite's bundled copy, which clashes with GDAL's).
if ! pkg-config --exists sqlite3 2>/dev/null; then need+=(libsqlite3-dev); fi
# Satellite products (issue 14): NetCDF-4 and HDF5 readers and the fixture generator.
if ! pkg-config --exists netcdf 2>/dev/null; then need+=(libnetcdf-dev); fi
if ! pkg-config --exists hdf5 2>/dev/null; then need+=(libhdf5-dev); fi
# MODIS L1B (issue 20): the HDF4 library the product::hdf4 FFI links (-lmfhdfalt -ldfalt); the
# "alt" build is the one GDAL links, so one copy of HDF4 lives in the process.
[ -f /usr/include/hdf/mfhdf.h ] || need+=(libhdf4-alt-dev)
command -v cc >/dev/null 2>&1 || need+=(build-essential)
# The L1B reader inflates chunks with the system libdeflate (the libdeflater crate's `dynamic`
# feature links -ldeflate).
[ -f /usr/include/libdeflate.h ] || need+=(libdeflate-dev)
# The browser tests of the dashboard and patrol page drive headless Chromium through chromedriver.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# A CJK font, so the pages' Chinese names render in the test screenshots and the bulletin's PDF
# (not as boxes); any font fontconfig knows for Chinese will do (fonts-noto-cjk is the larger one).
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then need+=(fonts-wqy-microhei); fi
# The bulletin's PDF test opens the PDF with poppler's pdfinfo, pdffonts, pdftotext, pdftoppm.
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust (https://rustup.rs)" >&2; exit 1; }
