#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store tests, local only (a unix socket, no TCP).
#
#   eval "$(scripts/pg-test.sh start)"   # prints: export CAZBLING_TEST_POSTGRES=...
#   make test                            # the PostgreSQL store tests now run too
#   scripts/pg-test.sh stop              # stops the server and deletes its folder
#
# The cluster lives in $CAZBLING_PG_DIR (default /tmp/cazbling-pg-test.$UID): the data,
# the socket and the log. When no initdb is found and we are root, Debian's postgresql
# package is installed (apt-get; CI does this). PostgreSQL refuses to run as root, so as
# root the server runs as the user $CAZBLING_PG_USER (default nobody). Authentication is
# trust: a test server for throwaway data, reachable only on this machine through a
# socket in a folder only its owner may list (mode 0711).
set -euo pipefail

dir="${CAZBLING_PG_DIR:-${TMPDIR:-/tmp}/cazbling-pg-test.$(id -u)}"
db=cazbling_test

find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return
    fi
  done
  return 1
}

# as_owner runs a command as the cluster's owner: ourselves, or (as root) the unprivileged user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "${CAZBLING_PG_USER:-nobody}" -- "$@"
  else
    "$@"
  fi
}

start() {
  local bin
  if ! bin="$(find_bin)"; then
    if [ "$(id -u)" != 0 ]; then
      echo "pg-test: no initdb/pg_ctl found; install PostgreSQL's server (Debian: apt-get install postgresql) or put its bin folder on PATH" >&2
      exit 1
    fi
    echo "pg-test: installing Debian's postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin="$(find_bin)" || { echo "pg-test: postgresql installed but no initdb found under /usr/lib/postgresql" >&2; exit 1; }
  fi
  if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "pg-test: a server already runs in $dir; reusing it (scripts/pg-test.sh stop ends it)" >&2
  else
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown "${CAZBLING_PG_USER:-nobody}" "$dir"
    fi
    # The owner writes here; others (root's tests) may only reach the socket by name.
    chmod 0711 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    # No TCP at all; fsync off (a test server: speed over durability); enough
    # connections for the race tests of several handles.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c unix_socket_permissions=0777 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    local psql="$bin/psql"
    [ -x "$psql" ] || psql="$(command -v psql)" || { echo "pg-test: no psql found" >&2; exit 1; }
    as_owner "$psql" -h "$dir" -U postgres -d postgres -qAt -c "CREATE DATABASE $db" >&2
  fi
  local dsn="postgres:///$db?host=$dir&user=postgres&sslmode=disable"
  printf 'export CAZBLING_TEST_POSTGRES=%q\n' "$dsn" | tee "$dir/env"
}

stop() {
  local bin
  if [ ! -d "$dir/data" ]; then
    return 0
  fi
  if bin="$(find_bin)"; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop (CAZBLING_PG_DIR: the cluster's folder)" >&2; exit 2 ;;
esac
