#!/usr/bin/env bash
# Runs every test of strawfire: unit, property, physical and end-to-end. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
# libhdf5 opens files without close-on-exec: a test that spawns a child process (the CLI, a
# server) while another test thread writes a NetCDF-4/HDF5 file hands the child that file's lock,
# and the writer's next open fails with EAGAIN. The tests do not share files between processes.
export HDF5_USE_FILE_LOCKING=FALSE
# The store's tests run on SQLite and on PostgreSQL: a throwaway cluster (installed when missing,
# removed on exit) for this run, unless the caller names one in STRAWFIRE_TEST_PG_URL.
if [ -z "${STRAWFIRE_TEST_PG_URL:-}" ]; then
  # shellcheck source=scripts/pg.sh
  source scripts/pg.sh
  pg_start
fi
cargo test --all-targets --no-fail-fast "$@"
cargo test --doc
