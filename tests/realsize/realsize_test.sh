#!/usr/bin/env bash
# ctest `realsize` (labels pg, pm2): issue 14's tests on the realistic-size sandbox
# (tools/sandbox/pipeline.sh start --size real: 6 channels, 800-3,000 participants per
# hourly epoch, 14 days, about 2.9 million rows in each of sealed_participants and
# channel_participation, the live feed on), with the real offmon binary, fresh stores and
# `offmon collect` alone (no import) at the documented default intervals (PostgreSQL
# 60 s, rules 30 s, PM2 and system 30 s; only the store, the log and a free HTTP port are
# configured).
#
# The seeded database is copied twice before the workers start (pipeline.sh --clone), so
# three daemons run at once, one per database, and the test waits for one PostgreSQL
# interval once, not once per incident:
#   live    `pipeline`, the live feed's database (PM2 watched too). Injected: every read
#           of sealed_epochs by the offmon role takes 700 ms more (a view with pg_sleep
#           in front of the table, on offmon's search_path): a slow database. Seeded:
#           the unpublished epoch (sykkuno), the missing hourly epoch (train), the
#           participants of jasontheween down 72 % in the newest epochs.
#           Expected: EpochUnpublished, EpochMissing, ParticipantDrop firing, DatabaseSlow
#           active (pending: its `for` is 3 minutes) with a response of 700 ms or more,
#           and a baseline for every channel of the database (part 2 of the issue's
#           tests: a fresh store and `offmon collect` alone).
#   quiet   `pipeline_quiet`, no feed. Injected: the aggregator fell silent 71 minutes
#           ago (its later participation rows removed; the epochs it cut short sealed
#           again from what had been collected, those with nothing left unsealed), a
#           trickle of 40 events since, and train's newest epoch sealed with zero
#           participants. Expected: EventRateLow WARNING (fewer than 100 events in the
#           last hour) and ZeroParticipants{channel="train"} firing (inhibited by
#           EventRateLow, as the rules document).
#   locked  `pipeline_locked`, no feed. Injected: another session holds an ACCESS
#           EXCLUSIVE lock on sealed_epochs. Expected: CollectorFailing{collector=
#           "postgres"} firing with "locked", DatabaseSlow active with the 2 s lock wait.
# Each expected alert must be active within one PostgreSQL interval (60 s) of that
# daemon's first PostgreSQL cycle (its `active_since`), and no WARNING or CRITICAL may fire
# that is not expected, seeded or explained by an expected cause (tests/realsize/judge.js;
# the host's own DiskSpaceLow, SystemMemoryLow and CpuHigh are not judged).
#
# The first PostgreSQL cycle comes on the 60 s grid (plus a fixed jitter of up to 6 s),
# the next evaluation within 30 s: the wait is bounded by a deadline and ends as soon as
# every daemon has seen its incidents. About 2 minutes (seeding: see the sandbox's
# printed "seeded ..." line). Needs what the sandbox needs (PostgreSQL server binaries,
# node, the project's pm2); a missing one is a failure, never a skip.
#   tests/realsize/realsize_test.sh OFFMON_BINARY [INITDB_CACHE]
# OFFMON_TEST_KEEP=DIR keeps each daemon's config, report, alert history and log in DIR.
set -euo pipefail
offmon=$(realpath -- "${1:?usage: realsize_test.sh OFFMON_BINARY [INITDB_CACHE]}")
initdb_cache=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
sandbox_sh="$src/tools/sandbox/pipeline.sh"
postgres_sh="$src/tools/sandbox/postgres.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/offmon-realsize.XXXXXX")
chmod 755 "$tmp"
sbx="$tmp/sbx"
scenarios=(live quiet locked)
declare -A daemon_pid=() db=()
db[live]=pipeline
db[quiet]=pipeline_quiet
db[locked]=pipeline_locked
lock_pid=""
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
since() { local ms=$(($(now_ms) - $1)); echo "$((ms / 1000)).$((ms % 1000 / 100))s"; }

cleanup() {
  local s
  for s in "${scenarios[@]}"; do
    if [ -n "${daemon_pid[$s]:-}" ]; then kill -TERM "${daemon_pid[$s]}" 2>/dev/null || true; fi
  done
  for s in "${scenarios[@]}"; do
    if [ -n "${daemon_pid[$s]:-}" ]; then wait "${daemon_pid[$s]}" 2>/dev/null || true; fi
  done
  "$sandbox_sh" stop "$sbx" >/dev/null 2>&1 || true  # also ends the lock's session
  if [ -n "$lock_pid" ]; then wait "$lock_pid" 2>/dev/null || true; fi
  if [ -n "${OFFMON_TEST_KEEP:-}" ]; then
    for s in "${scenarios[@]}"; do
      mkdir -p "$OFFMON_TEST_KEEP/$s"
      cp "$tmp/$s"/*.json "$tmp/$s"/*.log "$tmp/$s"/*.toml "$tmp/$s"/*.out "$OFFMON_TEST_KEEP/$s/" 2>/dev/null || true
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

psql_db() { local name=$1; shift; "$postgres_sh" psql "$sbx/pg" -d "$name" "$@"; }

# --- the sandbox, real size, with two copies of the seeded database
started=$(now_ms)
cache_opts=()
[ -n "$initdb_cache" ] && cache_opts=(--initdb-cache "$initdb_cache")
"$sandbox_sh" start "$sbx" --size real --clone pipeline_quiet --clone pipeline_locked --watch-pid $$ \
  ${cache_opts[@]+"${cache_opts[@]}"} >"$tmp/sandbox.out"
echo "sandbox: $(grep '^seeded' "$tmp/sandbox.out"); up after $(since "$started")"
# shellcheck source=/dev/null
. "$sbx/pipeline.env"
channels=$(psql_db pipeline -At -c "SELECT string_agg(DISTINCT channel, ',') FROM sealed_epochs")
rows=$(psql_db pipeline -At -c "SELECT (SELECT count(*) FROM channel_participation) + (SELECT count(*) FROM sealed_participants)")
echo "sandbox: channels $channels; $rows participation and sealed participant rows"

# --- the incidents
injected=$(now_ms)
psql_db pipeline >/dev/null <<'SQL'
CREATE SCHEMA slow;
-- Once per statement (a MATERIALIZED CTE is evaluated once), whatever the plan.
CREATE VIEW slow.sealed_epochs AS
  WITH delay AS MATERIALIZED (SELECT pg_sleep(0.7)) SELECT e.* FROM public.sealed_epochs e, delay;
GRANT USAGE ON SCHEMA slow TO offmon;
GRANT SELECT ON slow.sealed_epochs TO offmon;
ALTER ROLE offmon IN DATABASE pipeline SET search_path = slow, public;
SQL

psql_db pipeline_quiet >/dev/null <<'SQL'
BEGIN;
CREATE TEMP TABLE q AS
  SELECT now_s, now_s - 3600 - 660 AS silent_from FROM (SELECT floor(extract(epoch from now()))::bigint AS now_s) t;
-- The aggregator fell silent 71 minutes ago (the 10 minutes offmon reconstructs before
-- its first cycle included): nothing was collected after that.
DELETE FROM channel_participation p USING q WHERE p.epoch > q.silent_from - 3600 AND p.first_seen >= q.silent_from;
-- The tree builder sealed what had been collected: the epochs the silence cut short are
-- sealed again from their participation rows (as tree-builder-worker seals), those with
-- none left were never sealed.
CREATE TEMP TABLE cut AS SELECT e.epoch, e.channel FROM sealed_epochs e, q WHERE e.epoch > q.silent_from - 3600;
DELETE FROM sealed_participants sp USING cut c WHERE sp.epoch = c.epoch AND sp.channel = c.channel;
INSERT INTO sealed_participants (epoch, channel, idx, user_hash, username, token_group, category)
  SELECT epoch, channel, row_number() OVER (PARTITION BY epoch, channel ORDER BY first_seen, user_hash) - 1,
         user_hash, NULL, 'MILO', 'default'
  FROM channel_participation JOIN cut USING (epoch, channel);
DELETE FROM sealed_epochs e USING cut c WHERE e.epoch = c.epoch AND e.channel = c.channel
  AND NOT EXISTS (SELECT 1 FROM sealed_participants sp WHERE sp.epoch = e.epoch AND sp.channel = e.channel);
-- train's newest epoch: sealed with zero participants, and none were collected.
CREATE TEMP TABLE z AS SELECT epoch FROM sealed_epochs WHERE channel = 'train' ORDER BY sealed_at DESC LIMIT 1;
DELETE FROM sealed_participants WHERE channel = 'train' AND epoch = (SELECT epoch FROM z);
DELETE FROM channel_participation WHERE channel = 'train' AND epoch = (SELECT epoch FROM z);
UPDATE sealed_epochs e SET root = md5(e.channel || ':' || e.epoch || ':' ||
    (SELECT count(*) FROM sealed_participants sp WHERE sp.epoch = e.epoch AND sp.channel = e.channel))
  FROM cut c WHERE e.epoch = c.epoch AND e.channel = c.channel;
-- A trickle since: 40 events in the last 40 minutes, in epochs after the one the silence
-- cut short (unsealed: nobody seals this copy), first seen inside their epoch.
INSERT INTO channel_participation (epoch, channel, user_hash, first_seen, token_group, category)
  SELECT t - t % 3600, 'sykkuno', md5('sykkuno:' || (200000 + i)), t, 'MILO', 'default'
  FROM q, generate_series(1, 40) i,
       LATERAL (SELECT greatest(q.now_s - i * 60, q.silent_from - q.silent_from % 3600 + 3600) AS t) x;
COMMIT;
ANALYZE channel_participation, sealed_participants, sealed_epochs;
SQL

psql_db pipeline_locked >/dev/null 2>&1 <<'SQL' &
SET application_name = 'offmon-realsize-lock';
BEGIN;
LOCK TABLE sealed_epochs IN ACCESS EXCLUSIVE MODE;
SELECT pg_sleep(3600);
SQL
lock_pid=$!
deadline=$((SECONDS + 30))
until [ "$(psql_db postgres -At -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE a.application_name = 'offmon-realsize-lock' AND l.mode = 'AccessExclusiveLock' AND l.granted")" -ge 1 ]; do
  [ "$SECONDS" -lt "$deadline" ] || { fail "the lock on pipeline_locked.sealed_epochs was not taken in 30 s"; exit 1; }
  sleep 0.2
done
echo "incidents injected in $(since "$injected")"

# --- three daemons, fresh stores, default intervals
url=$(cat "$OFFMON_URL_FILE")
for s in "${scenarios[@]}"; do
  mkdir -p "$tmp/$s"
  (umask 077 && printf '%s\n' "${url%/pipeline}/${db[$s]}" >"$tmp/$s/url")
  {
    echo "[store]"
    echo "path = \"$tmp/$s/offmon.db\""
    echo "[log]"
    echo "file = \"$tmp/$s/monitor.log\""
    echo "[http]"
    echo "listen = \"127.0.0.1:0\""
    echo "[postgres]"
    echo "url_file = \"$tmp/$s/url\""
    echo "[pm2]"
    if [ "$s" = live ]; then
      echo "binary = \"$PM2_BIN\""
      echo "home = \"$PM2_HOME\""
      echo "processes = [\"twzrd-aggregator\", \"tree-builder-worker\", \"cls-worker-1\"]"
    else
      echo "enabled = false  # one PM2 watcher is enough; these databases have no workers"
    fi
  } >"$tmp/$s/offmon.toml"
  "$offmon" --config "$tmp/$s/offmon.toml" config check >/dev/null ||
    { fail "config check rejects $tmp/$s/offmon.toml"; exit 1; }
done
declare -A start_s=() first_pg=() seen_after=()
for s in "${scenarios[@]}"; do
  start_s[$s]=$(date +%s)
  "$offmon" --config "$tmp/$s/offmon.toml" collect >"$tmp/$s/collect.out" 2>&1 &
  daemon_pid[$s]=$!
done
daemons_started=$(now_ms)

# --- wait until every daemon has seen its incidents (deadline: the first PostgreSQL cycle
# on the 60 s grid plus jitter, one interval, and slack for a loaded machine)
report() { "$offmon" --config "$tmp/$1/offmon.toml" report --json >"$tmp/$1/report.json" 2>"$tmp/$1/report.err"; }
first_cycle() {  # unix seconds of the first PostgreSQL cycle in the store, or nothing
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const first = r.database && r.database.up && r.database.up.time;
    if (first) process.stdout.write(String(Math.floor(Date.parse(first) / 1000)));' "$tmp/$1/report.json" 2>/dev/null || true
}
deadline=$((SECONDS + 180))
pending=("${scenarios[@]}")
while [ "${#pending[@]}" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
  still=()
  for s in "${pending[@]}"; do
    kill -0 "${daemon_pid[$s]}" 2>/dev/null || { fail "the $s daemon exited: $(tail -5 "$tmp/$s/collect.out")"; continue; }
    if ! report "$s"; then still+=("$s"); continue; fi
    [ -n "${first_pg[$s]:-}" ] || first_pg[$s]=$(first_cycle "$s")
    want_channels=()
    if [ "$s" = live ]; then want_channels=("$channels"); fi
    if node "$here/judge.js" seen "$s" "$tmp/$s/report.json" ${want_channels[@]+"${want_channels[@]}"} \
        >"$tmp/$s/missing.txt"; then
      seen_after[$s]=$(($(date +%s) - start_s[$s]))
    else
      still+=("$s")
    fi
  done
  pending=(${still[@]+"${still[@]}"})
  [ "${#pending[@]}" -eq 0 ] || sleep 2
done
echo "daemons: waited $(since "$daemons_started")"

# --- verdicts
for s in "${scenarios[@]}"; do
  report "$s" || fail "$s: offmon report --json failed: $(cat "$tmp/$s/report.err")"
  [ -n "${first_pg[$s]:-}" ] || first_pg[$s]=$(first_cycle "$s")
  if [ -z "${seen_after[$s]:-}" ]; then
    fail "$s: not seen by the deadline: $(tr '\n' ';' <"$tmp/$s/missing.txt")"
  fi
  if [ -z "${first_pg[$s]}" ]; then
    fail "$s: no PostgreSQL cycle in the store"
  else
    # Each expected alert became active within one PostgreSQL interval of the first cycle.
    # shellcheck disable=SC2016  # JavaScript, not shell
    late=$(node -e '
      const [file, first, scenario] = process.argv.slice(1);
      const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
      const names = { live: ["EpochUnpublished", "EpochMissing", "ParticipantDrop", "DatabaseSlow"],
                      quiet: ["EventRateLow", "ZeroParticipants"], locked: ["CollectorFailing", "DatabaseSlow"] }[scenario];
      const out = [];
      for (const a of r.alerts) {
        if (!names.includes(a.alert)) continue;
        const after = Math.floor(Date.parse(a.active_since) / 1000) - Number(first);
        if (after > 60) out.push(`${a.alert}${JSON.stringify(a.labels)} ${after}s after the first cycle`);
      }
      process.stdout.write(out.join("; "));' "$tmp/$s/report.json" "${first_pg[$s]}" "$s")
    [ -z "$late" ] || fail "$s: seen later than one PostgreSQL interval: $late"
  fi
  "$offmon" --config "$tmp/$s/offmon.toml" alerts --since 1h --json >"$tmp/$s/alerts.json" 2>&1 ||
    fail "$s: offmon alerts --json failed: $(cat "$tmp/$s/alerts.json")"
  unexpected=$(node "$here/judge.js" unexpected "$s" "$tmp/$s/report.json" "$tmp/$s/alerts.json")
  [ -z "$unexpected" ] || fail "$s: alerts fired that were not injected or seeded: $unexpected"
  printf '%-6s first PostgreSQL cycle %ss after start; incidents seen %ss after start\n' "$s" \
    "$(( ${first_pg[$s]:-${start_s[$s]}} - start_s[$s] ))" "${seen_after[$s]:--}"
done

if [ "$failures" -gt 0 ]; then
  for s in "${scenarios[@]}"; do
    echo "--- $s: active alerts"
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      for (const a of r.alerts) console.log(a.state, a.severity, a.alert, JSON.stringify(a.labels), a.summary,
                                            a.inhibited_by ? "(inhibited by " + a.inhibited_by + ")" : "");
      console.log("database", JSON.stringify(r.database));' "$tmp/$s/report.json" 2>/dev/null || true
    echo "--- $s: monitor log (last 15 lines)"
    tail -15 "$tmp/$s/monitor.log" 2>/dev/null || true
  done
  exit 1
fi
echo "realsize: every incident seen within one PostgreSQL interval of the first cycle; total $(since "$started")"
