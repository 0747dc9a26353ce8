#!/usr/bin/env bash
# A throwaway PostgreSQL 15 + PostGIS 3 cluster for the tests of the PostgreSQL store (#19).
#
#   scripts/pg.sh CMD [ARGS...]   start a cluster, run CMD with STRAWFIRE_TEST_PG_URL set, stop it
#   source scripts/pg.sh; pg_start  (scripts/test.sh) the same for the rest of the calling script
#
# Installs Debian's postgresql and postgresql-15-postgis-3 when missing. The server runs as the
# `postgres` system user (initdb refuses root), from a data directory under target/ (or /tmp when
# target/'s path would make the socket's too long) that is removed on exit. It listens on no TCP
# port at all: only on a socket in that private directory, under a port number picked at random
# (it names the socket file), so two clusters on one machine never meet. Durability is off
# (`fsync = off`, `synchronous_commit = off`, `full_page_writes = off`): the tests check what the
# store commits, not the disk's fsync. `STRAWFIRE_PG_DURABLE=1` keeps PostgreSQL's defaults
# instead (fsync on, every commit flushed and waited for), as a deployment runs it: the benches
# that compare stores use that. Each test makes its own schema in the one database, so tests
# run in parallel.
set -euo pipefail

pg_install() {
  local need=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgresql-15-postgis-3)
  if [ ${#need[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing: ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# Runs a command as the cluster's owner (the postgres user when we are root).
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

pg_start() {
  pg_install
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target"
  mkdir -p "$root"
  # A Unix socket path holds at most 107 bytes.
  [ ${#root} -gt 60 ] && root=/tmp
  PG_DIR=$(mktemp -d "$root/pg.XXXXXX")
  trap pg_stop EXIT
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
  chmod 700 "$PG_DIR"
  local port=$((20000 + RANDOM % 40000))
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${STRAWFIRE_PG_DURABLE:-0}" = 1 ] && durability=""
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses='' -k $PG_DIR -p $port $durability -c max_connections=300" \
    start >/dev/null ||
    { cat "$PG_DIR/server.log" >&2; return 1; }
  pg_as_owner "$PG_BIN/createdb" -h "$PG_DIR" -p "$port" -U postgres strawfire_test
  pg_as_owner "$PG_BIN/psql" -q -h "$PG_DIR" -p "$port" -U postgres -d strawfire_test \
    -c 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null
  export STRAWFIRE_TEST_PG_URL="postgresql://postgres@/strawfire_test?host=$PG_DIR&port=$port"
  echo "PostgreSQL for the tests: $STRAWFIRE_TEST_PG_URL" >&2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  [ $# -gt 0 ] || { echo "usage: scripts/pg.sh CMD [ARGS...]" >&2; exit 2; }
  pg_start
  "$@"
fi
