#!/usr/bin/env bash
# Measures the daemon's footprint on a real stack: a sandbox PostgreSQL with the
# pipeline schema and a few sealed epochs, and a sandbox PM2 running 10 Node workers.
# Runs `offmon collect` with every collector on a 2 s interval for CYCLES cycles
# (default 30), stops it with SIGTERM and prints its peak RSS (VmHWM), its CPU time per
# cycle (utime+stime / cycles) and how many of the sealed epochs the store holds (the
# backlog is read a bounded number of participants per cycle). Uses $OFFMON, else
# build/offmon (tools/setup.sh).
#   tools/footprint.sh [CYCLES]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cycles=${1:-30}
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
now=$(date +%s)
"$here/tools/sandbox/postgres.sh" psql "$work/pg" -q <<SQL
INSERT INTO sealed_epochs(epoch, channel, root, sealed_at, published)
  SELECT $now - $now % 3600 - h * 3600, c, md5(c || h), $now - h * 3600, 1
  FROM generate_series(1, 24) h, unnest(ARRAY['train', 'sykkuno', 'jasontheween']) c;
INSERT INTO sealed_participants(epoch, channel, idx, user_hash, username)
  SELECT e.epoch, e.channel, i, md5(e.channel || i), 'u' || i
  FROM sealed_epochs e, generate_series(1, 2000) i;
INSERT INTO channel_participation(epoch, channel, user_hash, first_seen)
  SELECT $now - $now % 3600, 'train', md5('p' || i), $now - i FROM generate_series(1, 3000) i;
SQL
workers=()
for i in $(seq 1 10); do workers+=("worker$i=steady.js"); done
"$here/tools/sandbox/pm2.sh" start "$work/pm2" "${workers[@]}" >/dev/null

cat > "$work/offmon.toml" <<TOML
[system]
interval = "2s"
[pm2]
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
deadline=$((SECONDS + cycles * 2 + 60))
count=0
while [ "$count" -lt "$cycles" ] && [ $SECONDS -lt $deadline ]; do
  sleep 1  # polling the store for a cycle count, with a deadline
  if ! kill -0 "$daemon" 2>/dev/null; then
    echo "offmon collect exited early:" >&2; tail -5 "$work/stderr" >&2; exit 1
  fi
  count=$("$offmon" --store "$work/offmon.db" trend 'collector_up{collector="postgres"}' --since 1h --csv 2>/dev/null \
    | awk -F, 'NR > 1 {sum += $NF} END {print sum + 0}' || true)
done
read -r utime stime < <(awk '{print $14, $15}' "/proc/$daemon/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$daemon/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
kill -TERM "$daemon"; wait "$daemon" || true; daemon=
stored=$("$offmon" --store "$work/offmon.db" store info | awk '$1 == "epoch_sealed" {print $2}' || true)
hz=$(getconf CLK_TCK)
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "command: tools/footprint.sh $cycles"
echo "cycles (postgres collector runs): $count; PM2 workers: 10; epochs in the database: 72 x 2000 participants"
awk -v u="$utime" -v s="$stime" -v hz="$hz" -v n="$count" -v hwm="$hwm" -v rss="$rss" 'BEGIN {
  printf "peak RSS (VmHWM): %.1f MB; RSS at the end: %.1f MB\n", hwm / 1024, rss / 1024;
  printf "CPU: %.2f s in total, %.1f ms per cycle of all collectors\n", (u + s) / hz, 1000 * (u + s) / hz / n }'
echo "sealed epochs in the store: ${stored:-0} of 72"
grep -E "warning|error" "$work/stderr" | head -5 || true
