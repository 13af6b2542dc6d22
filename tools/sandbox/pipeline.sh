#!/usr/bin/env bash
# The whole monitored stack as a sandbox, for offmon's demo (tools/demo.sh) and tests:
# a PostgreSQL server with the pipeline schema and seeded history (postgres.sh,
# seed_history.js) and a PM2 running the guide's three workers (pm2.sh, workers/).
# Everything lives in DIR; nothing touches the system cluster or ~/.pm2.
#
#   pipeline.sh start DIR [--days N] [--size small|real] [--clone NAME]... [--watch-pid PID]
#                     [--initdb-cache CACHE]
#       postgres.sh start DIR/pg, seed N days of history (default 14) with the incidents of
#       workers/channels.js, then pm2.sh start DIR/pm2 with
#         twzrd-aggregator     writes participation rows continuously (one-minute epochs)
#         tree-builder-worker  seals each minute's epochs, publishes them 20 s later
#         cls-worker-1         leaks memory slowly
#       The workers get DATABASE_URL (superuser, over the socket in DIR/pg), PSQL and
#       OFFMON_SANDBOX=DIR in their environment.
#       --size (default $OFFMON_SANDBOX_SIZE, else small): small has 100-400 participants
#       per hourly epoch and participation rows for the last 50 hours (fast tests); real
#       has 800-3,000 per epoch (OFFMON_SANDBOX_SCALE=8, for the seed and the live
#       workers) and participation rows for every seeded epoch: 14 days of 6 channels are
#       about 2.9 million rows in each of sealed_participants and channel_participation
#       (the seed prints its time: 21-43 s on the shared 2-core VM under load; 8 CPU s on
#       the longer of its two sessions; docs/testing.md).
#       --clone NAME (repeatable): once seeded, and before the workers start, the database
#       is copied to database NAME (CREATE DATABASE ... TEMPLATE pipeline), readable by
#       offmon, which no worker writes to: a second pipeline frozen at the seed, for a
#       test that needs the live feed's database and a quiet one at once.
#       Writes DIR/pipeline.env (the values
#       below, shell syntax) and prints it. --watch-pid and --initdb-cache are passed on
#       (see postgres.sh and pm2.sh): with --watch-pid, the stack stops once PID exits.
#   pipeline.sh history-csv DIR BEFORE
#       prints the seeded history sealed before unix second BEFORE as CSV for
#       `offmon import --csv` (epoch_participants and epoch_published per channel, at
#       sealed_at), for importing history into a store without the collector.
#   pipeline.sh stop DIR     stops PM2 and PostgreSQL; succeeds when nothing runs
#
# DIR/pipeline.env:
#   OFFMON_URL_FILE      DIR/pg/url, the read-only `offmon` role's URL (for [postgres] url_file)
#   PM2_HOME             DIR/pm2/pm2home (for [pm2] home)
#   PM2_BIN              the project-local pm2 (for [pm2] binary)
#   DROP_CHANNEL         the channel whose participants dropped (the ParticipantDrop incident)
#   MISSING_CHANNEL, UNPUBLISHED_CHANNEL   the other two incidents' channels
#   LEAKING_PROCESS      cls-worker-1
#
# Runs as root (PostgreSQL as the postgres OS user, so DIR must be reachable by it: a
# directory under /tmp is) or as a normal user. Needs node and the pm2 of
# tools/install_node_deps.sh; installs nothing itself.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
root=$(cd "$here/../.." && pwd)
pm2_bin=${PM2:-$root/.deps/npm/node_modules/.bin/pm2}

die() { echo "pipeline.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

resolve_dir() {
  [ -n "${1:-}" ] || usage
  realpath -m -- "$1"
}

psql_bin() {
  local d
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN/psql"; return; fi
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -1 || true)
  if [ -n "$d" ] && [ -x "$d/psql" ]; then echo "$d/psql"; return; fi
  command -v psql || die "psql not found (install the postgresql package or set PG_BIN)"
}

# One value of workers/channels.js INCIDENTS.
incident() { node -e "process.stdout.write(String(require('$here/workers/channels').INCIDENTS.$1))"; }

# Seeds DIR/pg with seed_history.js's four parts (DIR/seed/*.sql): the helpers, then the
# sealed epochs and the participation rows in two sessions at once, then the rest.
seed() {
  local dir=$1; shift
  local parts="$dir/seed" pid rc=0
  rm -rf "$parts"
  node "$here/seed_history.js" "$@" --out-dir "$parts"
  "$here/postgres.sh" psql "$dir/pg" <"$parts/prologue.sql" >/dev/null
  "$here/postgres.sh" psql "$dir/pg" <"$parts/participation.sql" >/dev/null &
  pid=$!
  "$here/postgres.sh" psql "$dir/pg" <"$parts/sealed.sql" >/dev/null || rc=$?
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || die "seeding the history failed (SQL in $parts)"
  "$here/postgres.sh" psql "$dir/pg" <"$parts/epilogue.sql" >/dev/null
}

cmd_start() {
  local dir; dir=$(resolve_dir "${1:-}"); shift
  local days=14 size=${OFFMON_SANDBOX_SIZE:-small} pg_opts=() pm2_opts=() clones=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --days) days=${2:?--days needs a number}; shift 2 ;;
      --clone) clones+=("${2:?--clone needs a database name}"); shift 2 ;;
      --size) size=${2:?--size needs small or real}; shift 2 ;;
      --watch-pid) pg_opts+=(--watch-pid "${2:?--watch-pid needs a PID}"); pm2_opts+=(--watch-pid "$2"); shift 2 ;;
      --initdb-cache) pg_opts+=(--initdb-cache "${2:?--initdb-cache needs a directory}"); shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  local seed_opts=(--days "$days")
  case "$size" in
    small) export OFFMON_SANDBOX_SCALE=1 ;;
    real) export OFFMON_SANDBOX_SCALE=8; seed_opts+=(--participation-hours $((days * 24))) ;;
    *) die "start: --size must be small or real, not $size" ;;
  esac
  command -v node >/dev/null 2>&1 || die "node not found in PATH (run tools/install_node_deps.sh)"
  [ -x "$pm2_bin" ] || die "pm2 not found at $pm2_bin (run tools/install_node_deps.sh, or set PM2)"
  local psql; psql=$(psql_bin)
  mkdir -p "$dir"
  chmod 755 "$dir"  # the postgres OS user must reach DIR/pg

  "$here/postgres.sh" start "$dir/pg" "${pg_opts[@]}"
  local seed_started; seed_started=$(date +%s%N)
  seed "$dir" "${seed_opts[@]}"
  local counts
  counts=$("$here/postgres.sh" psql "$dir/pg" -At -F ' ' -c \
    "SELECT (SELECT count(*) FROM sealed_epochs), (SELECT count(*) FROM sealed_participants),
            (SELECT count(DISTINCT channel) FROM sealed_epochs)")
  read -r epochs participants channels <<<"$counts"
  local seed_ms=$((($(date +%s%N) - seed_started) / 1000000))
  echo "seeded $days days ($size): $epochs sealed epochs of $channels channels, $participants sealed participants ($((seed_ms / 1000)).$((seed_ms % 1000 / 100)) s)"

  local name
  for name in ${clones[@]+"${clones[@]}"}; do
    [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "start: --clone NAME must match [a-z_][a-z0-9_]*, not $name"
    # FILE_COPY: the files are copied, not every block written to the WAL (the default
    # strategy, made for small databases). CONNECT is granted to PUBLIC by default.
    "$here/postgres.sh" psql "$dir/pg" -d postgres -c "CREATE DATABASE \"$name\" TEMPLATE pipeline STRATEGY FILE_COPY" >/dev/null
  done

  # pm2 start hands the caller's environment to the workers.
  DATABASE_URL=$(cat "$dir/pg/superuser_url") PSQL=$psql OFFMON_SANDBOX=$dir \
    "$here/pm2.sh" start "$dir/pm2" "${pm2_opts[@]}" \
    "twzrd-aggregator=$here/workers/twzrd-aggregator.js" \
    "tree-builder-worker=$here/workers/tree-builder-worker.js" \
    "cls-worker-1=$here/workers/cls-worker-1.js" >/dev/null

  {
    echo "OFFMON_URL_FILE=$dir/pg/url"
    echo "PM2_HOME=$dir/pm2/pm2home"
    echo "PM2_BIN=$pm2_bin"
    echo "DROP_CHANNEL=$(incident dropChannel)"
    echo "MISSING_CHANNEL=$(incident missingChannel)"
    echo "UNPUBLISHED_CHANNEL=$(incident unpublishedChannel)"
    echo "LEAKING_PROCESS=cls-worker-1"
  } >"$dir/pipeline.env"
  cat "$dir/pipeline.env"
}

cmd_history_csv() {
  local dir; dir=$(resolve_dir "${1:-}")
  local before=${2:-}
  [[ "$before" =~ ^[0-9]+$ ]] || die "history-csv: BEFORE must be unix seconds"
  # format() quotes nothing; COPY's CSV quoting doubles the quotes of the labels.
  "$here/postgres.sh" psql "$dir/pg" -c "COPY (
    SELECT e.sealed_at AS timestamp, format('epoch_participants{channel=\"%s\"}', e.channel) AS series,
           (SELECT count(*) FROM sealed_participants p WHERE p.epoch = e.epoch AND p.channel = e.channel) AS value
    FROM sealed_epochs e WHERE e.sealed_at < $before
    UNION ALL
    SELECT e.sealed_at, format('epoch_published{channel=\"%s\"}', e.channel), e.published
    FROM sealed_epochs e WHERE e.sealed_at < $before
    ORDER BY 1, 2) TO STDOUT WITH (FORMAT csv, HEADER)"
}

cmd_stop() {
  local dir; dir=$(resolve_dir "${1:-}")
  local rc=0
  if [ -d "$dir/pm2" ]; then "$here/pm2.sh" stop "$dir/pm2" >/dev/null || rc=1; fi
  if [ -d "$dir/pg" ]; then "$here/postgres.sh" stop "$dir/pg" || rc=1; fi
  return "$rc"
}

command -v realpath >/dev/null 2>&1 || die "missing realpath (coreutils)"
case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  history-csv) shift; cmd_history_csv "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) usage ;;
esac
