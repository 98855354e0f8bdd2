#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL (127.0.0.1:5432) on 127.0.0.1:5433, for
# tests/replica/. Run as root on Debian (postgresql-common). Idempotent: a standby that is
# already streaming is reused; a missing or broken one is (re)built with pg_basebackup -R.
#   setup_replica.sh          make sure the replica streams
#   setup_replica.sh --drop   stop it and remove it
set -euo pipefail

VERSION="${PG_VERSION:-$(ls /etc/postgresql | sort -V | tail -1)}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
PORT="${REPLICA_PORT:-5433}"
CLUSTER="${REPLICA_CLUSTER:-replica}"
DATA="/var/lib/postgresql/${VERSION}/${CLUSTER}"
HBA="/etc/postgresql/${VERSION}/main/pg_hba.conf"
as_postgres() { runuser -u postgres -- "$@"; }
sql() { psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atqc "$2"; }

if [[ "${1:-}" == "--drop" ]]; then
  pg_dropcluster --stop "$VERSION" "$CLUSTER" 2>/dev/null || true
  exit 0
fi

streaming() {
  [[ "$(sql "$PORT" "SELECT pg_is_in_recovery()" 2>/dev/null)" == "t" ]] &&
    [[ "$(sql "$PORT" "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" == "streaming" ]]
}

wait_streaming() {
  for _ in $(seq 1 "${1:-30}"); do
    streaming && return 0
    sleep 1
  done
  return 1
}

# The primary lets 127.0.0.1 connect for replication (first matching line wins: on top).
if ! grep -qF "# tests/replica/setup_replica.sh" "$HBA"; then
  sed -i "1i host replication all 127.0.0.1/32 trust  # tests/replica/setup_replica.sh" "$HBA"
  sql "$PRIMARY_PORT" "SELECT pg_reload_conf()" >/dev/null
fi
if [[ "$(sql "$PRIMARY_PORT" "SHOW wal_level")" == "minimal" ]] ||
  (($(sql "$PRIMARY_PORT" "SHOW max_wal_senders") < 1)); then
  echo "The primary needs wal_level=replica and max_wal_senders > 0 (then a restart)." >&2
  exit 1
fi

# Reuse a standby that streams, or one that only needs starting.
if pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c' | grep -q .; then
  streaming && { echo "replica on :$PORT streaming (reused)"; exit 0; }
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" start 2>/dev/null || true
  wait_streaming 15 && { echo "replica on :$PORT streaming (restarted)"; exit 0; }
  echo "replica on :$PORT does not stream: rebuilding it" >&2
  pg_dropcluster --stop "$VERSION" "$CLUSTER"
fi

# A new cluster for Debian's configuration files, its data replaced by a base backup.
# (A data directory left behind without its cluster would make pg_createcluster refuse.)
[[ -d "$DATA" ]] && rm -rf "$DATA"
pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" >/dev/null
cp "$HBA" "/etc/postgresql/${VERSION}/${CLUSTER}/pg_hba.conf"
rm -rf "${DATA:?}"/*
as_postgres pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" \
  --write-recovery-conf --wal-method=stream --checkpoint=fast
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" start
wait_streaming 60 || { echo "the replica on :$PORT did not start streaming" >&2; exit 1; }
echo "replica on :$PORT streaming (new base backup)"
