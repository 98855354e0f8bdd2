#!/usr/bin/env bash
# Requests per second of /healthz and of / (the public column) under `wrk -t2 -c8 -d10s`,
# against gunicorn with 3 sync workers on loopback, for each way of reaching PostgreSQL.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/tian_bench deploy/bench.sh
# The database should hold data (manage.py load_demo, generate_data --proposals 5000).
# Numbers from one machine; compare the rows with each other, not with another machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
GUNICORN="${GUNICORN:-$(dirname "$PY")/gunicorn}"
PORT="${BENCH_PORT:-8765}"
DURATION="${BENCH_DURATION:-10s}"
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database with data}"

export DJANGO_SECRET_KEY=bench-only DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_DEBUG=0
# The development key (config/settings.py), unless the data was loaded with another.
export DJANGO_FIELD_ENCRYPTION_KEYS="${DJANGO_FIELD_ENCRYPTION_KEYS:-ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDAwMDA=}"
export DJANGO_STATIC_ROOT="${DJANGO_STATIC_ROOT:-var/bench-static}" DJANGO_LOG_LEVEL=WARNING
unset DATABASE_REPLICA_URL
"$PY" manage.py collectstatic --noinput -v0

run() {
  local label="$1"
  shift
  env "$@" "$GUNICORN" config.wsgi --bind "127.0.0.1:$PORT" --workers 3 \
    --log-level warning >/dev/null 2>var/bench-gunicorn.log &
  local pid=$!
  for _ in $(seq 1 50); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  for path in /healthz /; do
    wrk -t2 -c8 -d2s "http://127.0.0.1:$PORT$path" >/dev/null # warm every worker
    local out
    out="$(wrk -t2 -c8 -d"$DURATION" --latency "http://127.0.0.1:$PORT$path")"
    printf '%-42s %-9s %8s req/s  p50 %7s  p99 %7s  %s\n' "$label" "$path" \
      "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
      "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
      "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
      "$(grep -o 'Non-2xx or 3xx responses: [0-9]*' <<<"$out" || true)"
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

run "new connection per request (MAX_AGE=0)" DATABASE_CONN_MAX_AGE=0
run "persistent connections (MAX_AGE=60)" DATABASE_CONN_MAX_AGE=60
run "psycopg pool (DATABASE_POOL=1)" DATABASE_POOL=1
run "psycopg pool + Redis cache" DATABASE_POOL=1 DJANGO_REDIS_URL=redis://127.0.0.1:6379/14
# The same database through PgBouncer in transaction mode (PGBOUNCER_URL), with and without
# the settings it needs: without them, server-side cursors break (the Non-2xx column).
if [[ -n "${PGBOUNCER_URL:-}" ]]; then
  run "PgBouncer, DATABASE_PGBOUNCER=0" DATABASE_URL="$PGBOUNCER_URL" DATABASE_CONN_MAX_AGE=0
  run "PgBouncer, DATABASE_PGBOUNCER=1" DATABASE_URL="$PGBOUNCER_URL" DATABASE_CONN_MAX_AGE=0 \
    DATABASE_PGBOUNCER=1
fi
