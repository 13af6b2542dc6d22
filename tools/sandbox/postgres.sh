#!/usr/bin/env bash
# A throwaway PostgreSQL server holding the monitored pipeline's schema, for offmon's
# tests and demo. Everything lives in one directory; nothing touches the system cluster.
#
#   postgres.sh start DIR [--old-schema] [--watch-pid PID] [--initdb-cache CACHE]
#       initdb into DIR/pgdata (first time only), start the server on a free loopback
#       port with its unix socket in DIR, create database `pipeline` with the schema
#       (tools/sandbox/pipeline_schema.sql, or pipeline_schema_old.sql without
#       token_group/category) and a read-only role `offmon` with a random password
#       (scram-sha-256). Writes:
#         DIR/port            the TCP port
#         DIR/url             postgresql://offmon:PASSWORD@127.0.0.1:PORT/pipeline (mode 0600)
#         DIR/superuser_url   postgresql://postgres@/pipeline?host=DIR&port=PORT (no
#                             password: trust over the socket in DIR, which is mode 0700)
#         DIR/postgres.log    the server log
#       A second start on the same DIR restarts the existing cluster on its old port.
#       --watch-pid PID: a detached watchdog stops the server once PID has exited (so a
#       crashed test run leaves no server behind).
#       --initdb-cache CACHE: keep a pristine initdb result in CACHE and copy it instead
#       of running initdb again (initdb takes seconds; tests start many servers).
#   postgres.sh stop DIR             pg_ctl stop -m fast; succeeds when nothing runs
#   postgres.sh status DIR           exit 0 when the server runs, 3 when not
#   postgres.sh psql DIR [ARGS...]   psql as the superuser on database pipeline (-d NAME
#                                    picks another), ON_ERROR_STOP on
#   postgres.sh db DIR NAME [--old-schema|--empty]
#                                    create database NAME with the schema, readable by offmon
#
# Run as root, the server runs as the `postgres` OS user (runuser), so DIR must be
# reachable by it (a directory under /tmp is); otherwise it runs as the current user.
# The cluster's superuser is always named `postgres`. Binaries: $PG_BIN, else the newest
# /usr/lib/postgresql/*/bin, else `pg_config --bindir`. The password is only ever passed
# on stdin or written to DIR/url, never in an argument list.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
ready_timeout=${PG_READY_TIMEOUT:-30}

die() { echo "postgres.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -1 || true)
  if [ -n "$d" ]; then echo "$d"; return; fi
  if command -v pg_config >/dev/null 2>&1; then pg_config --bindir; return; fi
  die "PostgreSQL server binaries not found (install the postgresql package or set PG_BIN)"
}
pg_bin=$(find_bin)
for tool in initdb pg_ctl pg_isready psql; do
  [ -x "$pg_bin/$tool" ] || die "missing $pg_bin/$tool (install the postgresql package or set PG_BIN)"
done

is_root() { [ "$(id -u)" -eq 0 ]; }
# Runs a command as the cluster's OS owner: `postgres` when we are root, else ourselves.
as_owner() {
  if is_root; then
    command -v runuser >/dev/null 2>&1 || die "running as root needs runuser (util-linux)"
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Resolves DIR to an absolute path made only of characters that need no quoting in a
# shell, a URI or pg_ctl's -o string.
resolve_dir() {
  [ -n "${1:-}" ] || usage
  local d
  d=$(realpath -m -- "$1")
  [[ "$d" =~ ^[A-Za-z0-9/._+-]+$ ]] || die "DIR '$d' may only contain letters, digits and / . _ + -"
  echo "$d"
}

read_port() {
  [ -s "$1/port" ] || die "no server set up in $1 (run: postgres.sh start $1)"
  cat "$1/port"
}

# Prints a free loopback TCP port: binds port 0 and reports what the kernel chose (perl
# is in every Debian base system; python3 as a fallback).
free_port() {
  if command -v perl >/dev/null 2>&1; then
    perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
      LocalPort => 0, Proto => "tcp", Listen => 1) or die "bind: $!\n"; print $s->sockport, "\n"'
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  else
    die "need perl or python3 to find a free port"
  fi
}

running() { as_owner "$pg_bin/pg_ctl" -D "$1/pgdata" status >/dev/null 2>&1; }

psql_super() {  # DIR DB [ARGS...]
  local dir=$1 db=$2 port; shift 2
  port=$(read_port "$dir")
  as_owner "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" "$@"
}

# Starts the postmaster on `port` and waits until it accepts connections. Returns 1 when
# it exits early (typically: the port was taken meanwhile), dies on the deadline.
start_on_port() {
  local dir=$1 port=$2
  as_owner "$pg_bin/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -W \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null
  local deadline=$((SECONDS + ready_timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then return 0; fi
    # pg_ctl -W returns before postmaster.pid exists; give it a moment before judging.
    if ! running "$dir" && [ "$SECONDS" -gt $((deadline - ready_timeout + 2)) ]; then return 1; fi
    sleep 0.1
  done
  tail -5 "$dir/postgres.log" >&2 || true
  die "server in $dir not ready after ${ready_timeout}s (log: $dir/postgres.log)"
}

grant_sql() {  # DB
  cat <<SQL
GRANT CONNECT ON DATABASE "$1" TO offmon;
GRANT USAGE ON SCHEMA public TO offmon;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO offmon;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO offmon;
SQL
}

create_db() {  # DIR NAME SCHEMA_FILE|""
  local dir=$1 name=$2 schema=$3
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name '$name' must match [a-z_][a-z0-9_]*"
  psql_super "$dir" postgres -c "CREATE DATABASE \"$name\"" >/dev/null
  if [ -n "$schema" ]; then
    [ -r "$schema" ] || die "schema file $schema not readable"
    psql_super "$dir" "$name" <"$schema" >/dev/null  # stdin: the owner may not reach the file
  fi
  grant_sql "$name" | psql_super "$dir" "$name" >/dev/null
}

# initdb into DIR/pgdata, or a copy of the cached result of an identical initdb.
init_cluster() {  # DIR CACHE|""
  local dir=$1 cache=$2 version
  version=$("$pg_bin/postgres" --version | sed 's/[^0-9]*\([0-9][0-9]*\).*/\1/')
  local cached
  cached="$cache/pgdata-$version-$(id -u)"
  if [ -n "$cache" ] && [ -f "$cached/PG_VERSION" ]; then
    cp -a "$cached" "$dir/pgdata" && return 0
    rm -rf "$dir/pgdata"
  fi
  as_owner "$pg_bin/initdb" -D "$dir/pgdata" -U postgres -A trust -E UTF8 --locale=C \
    --no-instructions --no-sync >"$dir/initdb.log" 2>&1 ||
    { tail -5 "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }
  if [ -n "$cache" ]; then  # publish atomically; a concurrent run may win the rename
    mkdir -p "$cache"
    local tmp="$cached.tmp.$$"
    rm -rf "$tmp"
    if cp -a "$dir/pgdata" "$tmp" && mv -T "$tmp" "$cached" 2>/dev/null; then :; else rm -rf "$tmp"; fi
  fi
}

cmd_start() {
  local dir; dir=$(resolve_dir "${1:-}"); shift
  local schema="$here/pipeline_schema.sql" watch_pid="" cache=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --old-schema) schema="$here/pipeline_schema_old.sql"; shift ;;
      --watch-pid) watch_pid=${2:?--watch-pid needs a PID}; shift 2 ;;
      --initdb-cache) cache=$(realpath -m -- "${2:?--initdb-cache needs a directory}"); shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  if is_root; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' OS user (install the postgresql package)"
  fi
  mkdir -p "$dir"
  if is_root; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  as_owner test -w "$dir" -a -x "$dir" ||
    die "$dir is not reachable by the postgres OS user (a parent directory is not searchable); use a directory under /tmp"

  if [ -n "$watch_pid" ]; then
    (setsid "$self" _watch "$dir" "$watch_pid" </dev/null >/dev/null 2>&1 &)
  fi

  if [ -f "$dir/pgdata/PG_VERSION" ]; then  # an existing cluster: start it again
    local port; port=$(read_port "$dir")
    running "$dir" && return 0
    start_on_port "$dir" "$port" || die "server in $dir failed to start on port $port (log: $dir/postgres.log)"
    return 0
  fi

  init_cluster "$dir" "$cache"
  # Trust only over the socket in the 0700 DIR; TCP needs the password.
  printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 scram-sha-256" |
    as_owner tee "$dir/pgdata/pg_hba.conf" >/dev/null

  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    echo "$port" >"$dir/port"
    if start_on_port "$dir" "$port"; then break; fi
    [ "$attempt" -lt 5 ] || die "server in $dir failed to start (log: $dir/postgres.log)"
  done

  local password
  password=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 || true)
  [ ${#password} -eq 24 ] || die "could not generate a password"
  # On stdin, so the password never shows in a process list.
  psql_super "$dir" postgres >/dev/null <<SQL
CREATE ROLE offmon LOGIN PASSWORD '$password';
ALTER ROLE offmon SET default_transaction_read_only = on;
SQL
  create_db "$dir" pipeline "$schema"

  (umask 077 && echo "postgresql://offmon:$password@127.0.0.1:$port/pipeline" >"$dir/url")
  echo "postgresql://postgres@/pipeline?host=$dir&port=$port" >"$dir/superuser_url"
}

cmd_stop() {
  local dir; dir=$(resolve_dir "${1:-}")
  [ -f "$dir/pgdata/PG_VERSION" ] || return 0
  running "$dir" || return 0
  as_owner "$pg_bin/pg_ctl" -D "$dir/pgdata" -m fast -w -t 60 stop >/dev/null
}

cmd_status() {
  local dir; dir=$(resolve_dir "${1:-}")
  [ -f "$dir/pgdata/PG_VERSION" ] && running "$dir" && return 0
  return 3
}

cmd_psql() {
  local dir; dir=$(resolve_dir "${1:-}"); shift
  psql_super "$dir" pipeline "$@"
}

cmd_db() {
  local dir; dir=$(resolve_dir "${1:-}")
  local name=${2:-}; [ -n "$name" ] || usage
  local schema="$here/pipeline_schema.sql"
  case "${3:-}" in
    "") ;;
    --old-schema) schema="$here/pipeline_schema_old.sql" ;;
    --empty) schema="" ;;
    *) die "db: unknown option $3" ;;
  esac
  create_db "$dir" "$name" "$schema"
}

# Internal: stops the server in DIR once process PID is gone (or DIR was removed).
cmd_watch() {
  local dir=$1 pid=$2
  while kill -0 "$pid" 2>/dev/null && [ -d "$dir/pgdata" ]; do sleep 1; done
  cmd_stop "$dir" || true
}

command -v realpath >/dev/null 2>&1 || die "missing realpath (coreutils)"
case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  psql) shift; cmd_psql "$@" ;;
  db) shift; cmd_db "$@" ;;
  _watch) shift; cmd_watch "$@" ;;
  *) usage ;;
esac
