#!/usr/bin/env bash
# Measures the daemon's footprint on a real stack while it backfills: a sandbox PostgreSQL
# with the pipeline schema and DAYS of seeded history (tools/sandbox/seed_history.js, the
# sandbox's channels, incidents and sizes), and a sandbox PM2 running 10 Node workers.
# Runs `offmon collect` on a fresh store with every collector on a 2 s interval for CYCLES
# PostgreSQL cycles (default 60), stops it with SIGTERM and prints its peak RSS (VmHWM),
# its CPU time per cycle (utime+stime / cycles), how far the backfill came (the counts are
# read 48 h of epochs per cycle, newest first; the participant sets of the last
# `participant_sets` days 5,000 participants per cycle) and how many of the sealed epochs
# the store holds. Uses $OFFMON, else build/offmon (tools/setup.sh).
#   tools/footprint.sh [--days N] [--size small|real] [--pm2-method rpc|jlist] [CYCLES]
#     --days N     days of sealed history in the database (default 30: the default
#                  [postgres] backfill, so the whole backlog is read)
#     --size S     real (default): 800-3,000 participants per hourly epoch and participation
#                  rows for every epoch, as `tools/sandbox/pipeline.sh start --size real`;
#                  small: 100-400 per epoch, participation rows for the last 50 h
#     --pm2-method M  [pm2] method (default rpc); with jlist the CPU of the `pm2 jlist`
#                  children is printed beside offmon's
# Seeding 30 real days takes a minute or two. No live feed: the database does not change
# while the daemon runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cycles=60; days=30; size=real; pm2_method=rpc
while [ $# -gt 0 ]; do
  case "$1" in
    --days) days=${2:?--days needs a number}; shift 2 ;;
    --size) size=${2:?--size needs small or real}; shift 2 ;;
    --pm2-method) pm2_method=${2:?--pm2-method needs rpc or jlist}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) cycles=$1; shift ;;
    *) echo "footprint.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$size" in
  small) scale=1; participation_hours=50 ;;
  real) scale=8; participation_hours=$((days * 24)) ;;
  *) echo "footprint.sh: --size must be small or real, not $size" >&2; exit 2 ;;
esac
offmon=${OFFMON:-$here/build/offmon}
work=$(mktemp -d "${TMPDIR:-/tmp}/offmon-footprint.XXXXXX")
chmod 755 "$work"
cleanup() {
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null || true
  "$here/tools/sandbox/pm2.sh" stop "$work/pm2" >/dev/null 2>&1 || true
  "$here/tools/sandbox/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$here/tools/sandbox/postgres.sh" start "$work/pg" >/dev/null
seed_started=$SECONDS
OFFMON_SANDBOX_SCALE=$scale node "$here/tools/sandbox/seed_history.js" --days "$days" \
  --participation-hours "$participation_hours" >"$work/seed.sql"
"$here/tools/sandbox/postgres.sh" psql "$work/pg" -q <"$work/seed.sql" >/dev/null
read -r db_epochs db_participants db_participation < <("$here/tools/sandbox/postgres.sh" psql "$work/pg" -At -F ' ' -c \
  "SELECT (SELECT count(*) FROM sealed_epochs), (SELECT count(*) FROM sealed_participants),
          (SELECT count(*) FROM channel_participation)")
seed_seconds=$((SECONDS - seed_started))
workers=()
for i in $(seq 1 10); do workers+=("worker$i=steady.js"); done
"$here/tools/sandbox/pm2.sh" start "$work/pm2" "${workers[@]}" >/dev/null

cat > "$work/offmon.toml" <<TOML
[system]
interval = "2s"
[pm2]
method = "$pm2_method"
home = "$work/pm2/pm2home"
binary = "$here/.deps/npm/node_modules/.bin/pm2"
interval = "2s"
[postgres]
url_file = "$work/pg/url"
interval = "2s"
[log]
file = "$work/monitor.log"
[http]
listen = "127.0.0.1:0"
TOML

"$offmon" --config "$work/offmon.toml" --store "$work/offmon.db" collect 2>"$work/stderr" &
daemon=$!
deadline=$((SECONDS + cycles * 2 + 120))
count=0; peak=0; peak_at=0; done_at=
while [ "$count" -lt "$cycles" ] && [ $SECONDS -lt $deadline ]; do
  sleep 1  # polling the store for a cycle count, with a deadline
  if ! kill -0 "$daemon" 2>/dev/null; then
    echo "offmon collect exited early:" >&2; tail -5 "$work/stderr" >&2; exit 1
  fi
  count=$("$offmon" --store "$work/offmon.db" trend 'collector_up{collector="postgres"}' --since 1h --csv 2>/dev/null \
    | awk -F, 'NR > 1 {sum += $NF} END {print sum + 0}' || true)
  # When the peak was reached and when the backfill of the counts was done, in cycles.
  now_hwm=$(awk '/VmHWM/ {print $2}' "/proc/$daemon/status" 2>/dev/null || echo 0)
  if [ "${now_hwm:-0}" -gt "$peak" ]; then peak=$now_hwm; peak_at=$count; fi
  if [ -z "$done_at" ] && "$offmon" --store "$work/offmon.db" store info 2>/dev/null | grep -q '^backfill:.*complete'; then
    done_at=$count
  fi
done
read -r utime stime cutime cstime < <(awk '{print $14, $15, $16, $17}' "/proc/$daemon/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$daemon/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
# What the RSS is made of at the end: the heap and stacks, and pages of the binary and
# its shared libraries.
rss_parts=$(awk '/^RssAnon|^RssFile/ {printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", "}' "/proc/$daemon/status")
# Its proportional share (shared library pages divided among the processes that map them).
pss=$(awk '/^Pss:/ {printf "%.1f", $2 / 1024}' "/proc/$daemon/smaps_rollup")
# Resident KiB per mapped file (and [heap], [stack], anonymous), largest first.
rss_by_file=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {name = NF >= 6 ? $6 : "(anonymous)"; sub(".*/", "", name)}
  /^Rss:/ {kib[name] += $2} END {for (n in kib) if (kib[n] >= 64) printf "%d %s\n", kib[n], n}' "/proc/$daemon/smaps" |
  sort -rn | head -12 | awk '{printf "%s%s %.1f", sep, $2, $1 / 1024; sep = ", "}')
kill -TERM "$daemon"; wait "$daemon" || true; daemon=
stored=$("$offmon" --store "$work/offmon.db" store info | awk '$1 == "epoch_sealed" {print $2}' || true)
hz=$(getconf CLK_TCK)
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "command: tools/footprint.sh --days $days --size $size --pm2-method $pm2_method $cycles"
echo "database: $days days ($size), $db_epochs sealed epochs, $db_participants sealed participants," \
  "$db_participation participation rows (seeded in ${seed_seconds}s)"
echo "cycles (postgres collector runs): $count; PM2 workers: 10"
awk -v u="$utime" -v s="$stime" -v hz="$hz" -v n="$count" -v hwm="$hwm" -v rss="$rss" -v parts="$rss_parts" -v pss="$pss" -v cu="$cutime" -v cs="$cstime" 'BEGIN {
  printf "peak RSS (VmHWM): %.1f MB; RSS at the end: %.1f MB (%s; PSS %s MB)\n", hwm / 1024, rss / 1024, parts, pss;
  printf "CPU: %.2f s in total, %.1f ms per cycle of all collectors", (u + s) / hz, 1000 * (u + s) / hz / n;
  printf "; its child processes (pm2 jlist) %.2f s, %.1f ms per cycle\n", (cu + cs) / hz, 1000 * (cu + cs) / hz / n }'
echo "resident MB by mapping: $rss_by_file"
echo "sealed epochs in the store: ${stored:-0} of $db_epochs"
"$offmon" --store "$work/offmon.db" store info | grep -E '^backfill:' || true
echo "peak first reached by cycle $peak_at; backfill of the counts complete by cycle ${done_at:-(not yet)}"
grep -E "warning|error" "$work/stderr" | head -5 || true
