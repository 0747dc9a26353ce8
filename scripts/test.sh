#!/usr/bin/env bash
# Runs every test of strawfire: unit, property, physical and end-to-end. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo test --all-targets --no-fail-fast "$@"
cargo test --doc
