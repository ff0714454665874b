#!/usr/bin/env bash
# Starts a throwaway PostgreSQL from the machine's installed server binaries: a fresh cluster in a
# temp dir, listening on 127.0.0.1 only, on a free port. Prints `DATABASE_URL_TEST=...` and the data
# dir; `stop <dir>` stops it and deletes the dir. Used by .ci/run and by developers:
#   eval "$(bash scripts/throwaway-postgres.sh start)"; npm test; bash scripts/throwaway-postgres.sh stop "$PG_TMP"
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local candidate
  candidate=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$candidate" ] && { echo "$candidate"; return; }
  echo "PostgreSQL server binary '$name' not found (install the postgresql package)" >&2
  exit 1
}

# initdb and postgres refuse to run as root; run them as an unprivileged user when we are root.
as_db_user() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

cmd=${1:-}
case "$cmd" in
  start)
    INITDB=$(find_bin initdb)
    PG_CTL=$(find_bin pg_ctl)
    dir=$(mktemp -d -t sync-pg-XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres; chown postgres "$dir"; }
    port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    as_db_user "$INITDB" -D "$dir/data" -U sync --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_db_user "$PG_CTL" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "export DATABASE_URL_TEST=postgres://sync@127.0.0.1:$port/postgres"
    echo "export PG_TMP=$dir"
    ;;
  stop)
    dir=${2:?usage: stop <dir>}
    PG_CTL=$(find_bin pg_ctl)
    [ -d "$dir/data" ] && as_db_user "$PG_CTL" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop <dir>" >&2
    exit 2
    ;;
esac
