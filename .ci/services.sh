#!/usr/bin/env bash
# Start/stop throwaway PostgreSQL and Redis servers on loopback for the scale-out tests.
# `start` prints the environment variables to export (use with eval).
set -euo pipefail
BASE="${GOVBOT_CI_SERVICES_DIR:-/tmp/govbot-ci-services}"
PG_PORT="${GOVBOT_CI_PG_PORT:-55432}"
REDIS_PORT="${GOVBOT_CI_REDIS_PORT:-56379}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

start() {
  mkdir -p "$BASE"
  if [ -n "$PG_BIN" ]; then
    if [ ! -f "$BASE/pg/PG_VERSION" ]; then
      mkdir -p "$BASE/pg"; [ "$(id -u)" -ne 0 ] || chown -R postgres "$BASE/pg"
      as_pg "$PG_BIN/initdb -D $BASE/pg -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >&2
    fi
    as_pg "$PG_BIN/pg_ctl -D $BASE/pg -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1' -l $BASE/pg/server.log -w start" >&2 || true
    as_pg "$PG_BIN/psql -h 127.0.0.1 -p $PG_PORT -U postgres -tc \"SELECT 1 FROM pg_roles WHERE rolname='govbot'\"" | grep -q 1 \
      || as_pg "$PG_BIN/psql -h 127.0.0.1 -p $PG_PORT -U postgres -c \"CREATE ROLE govbot LOGIN PASSWORD 'govbot' CREATEDB\"" >&2
    echo "export GOVBOT_TEST_PG_URL=postgresql://govbot:govbot@127.0.0.1:$PG_PORT/postgres"
  fi
  if command -v redis-server >/dev/null; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --pidfile "$BASE/redis.pid" --logfile "$BASE/redis.log" >&2
    echo "export GOVBOT_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
  fi
}

stop() {
  [ -z "$PG_BIN" ] || [ ! -f "$BASE/pg/PG_VERSION" ] || as_pg "$PG_BIN/pg_ctl -D $BASE/pg -m fast stop" >/dev/null 2>&1 || true
  [ ! -f "$BASE/redis.pid" ] || kill "$(cat "$BASE/redis.pid")" 2>/dev/null || true
}

"${1:-start}"
