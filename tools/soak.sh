#!/usr/bin/env bash
# The fault soak: `offmon collect` on the real sandbox (PostgreSQL + PM2) with its store on
# a small filesystem of its own, while faults strike at moments drawn from a seed. At the
# end it checks what offmon promises and prints one table; exit 1 when an invariant fails.
#
#   tools/soak.sh OFFMON_BINARY [--seed N] [--slot SECONDS] [--rounds N] [--keep]
#
# Faults, in an order drawn from the seed, one per slot (default 30 s), each starting at a
# random moment in the first third of its slot and lasting half of it:
#   postgres-down   PostgreSQL stopped (pg_ctl stop -m fast), then started again
#   pm2-killed      the PM2 daemon and its workers killed (pm2 kill), then started again
#   crash-loop      a worker exits 1.5 s after each start; PM2 keeps restarting it
#   disk-full       the store's filesystem filled to 93 %, then to the last byte, then freed
#   clock-step      offmon's wall clock stepped 2 minutes forward (libfaketime), for good;
#                   not with a sanitizer build, which libfaketime cannot wrap (CI's)
#   offmon-killed   SIGKILL of offmon, restarted at once
#   receiver-hangs  the webhook receiver holds every request unanswered, while a worker
#                   is stopped (so that there is something to notify)
# --rounds N repeats the whole set N times (the CI form is one round of 30 s slots, about
# five minutes; the long form, `--rounds 12 --slot 300`, compresses a day of incidents into
# seven hours).
#
# Invariants, checked at the end:
#   samples kept       every sample the store held at any of the snapshots taken during
#                      the run (offmon trend, 1 s buckets: count and sum per series and
#                      second) is still there, unchanged, at the end: nothing committed is
#                      lost, by a SIGKILL, a full disk or a restart
#   store check        `offmon store check` exits 0
#   delivered once     every queued notification has exactly one notification_delivered
#                      event, and the receiver saw every one of them (by Idempotency-Key)
#   rss bounded        offmon's peak RSS in the last third of the run is within 1.5 x + 8 MB
#                      of its peak in the first third
#   fault -> alert     each fault's alert fired during it (or within a slot after it) and
#                      was resolved by the end: postgres-down DatabaseUnreachable, pm2-killed
#                      AllProcessesOffline, crash-loop RestartLoop, disk-full DiskSpaceLow,
#                      receiver-hangs ProcessOffline
#   no false crit      no CRITICAL alert other than those the faults explain
#   healthz honest     /healthz never answers 200 while PostgreSQL is down (from three
#                      collector intervals after it stopped), and 200 again after the
#                      last fault
# Needs root (the small filesystem is a tmpfs mounted by this script and unmounted on exit)
# and what the sandbox needs; tools/setup.sh installs it all (libfaketime included).
set -euo pipefail
offmon=$(realpath -- "${1:?usage: soak.sh OFFMON_BINARY [--seed N] [--slot SECONDS] [--rounds N] [--keep]}")
shift
seed=${SOAK_SEED:-$(date +%s)}; slot=30; rounds=1; keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed=$2; shift 2 ;;
    --slot) slot=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$slot" -ge 24 ] || { echo "soak.sh: --slot must be at least 24 seconds" >&2; exit 2; }
# 77: ctest's skip code (SKIP_RETURN_CODE), for a developer's run as a normal user.
[ "$(id -u)" -eq 0 ] || { echo "soak.sh: skipped: needs root to mount the store's small filesystem" >&2; exit 77; }
here=$(cd "$(dirname "$0")/.." && pwd)
faketime_lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1 || true)
[ -n "$faketime_lib" ] || { echo "soak.sh: libfaketime not found (apt-get install faketime)" >&2; exit 2; }

work=$(mktemp -d /tmp/offmon-soak.XXXXXX)
chmod 755 "$work"
fs_dir="$work/storefs"
offmon_pid=""; receiver_pid=""
cleanup() {
  local rc=$?
  [ -n "$offmon_pid" ] && kill -9 "$offmon_pid" 2>/dev/null || true
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
  "$here/tools/sandbox/pipeline.sh" stop "$work/sandbox" >/dev/null 2>&1 || true
  umount "$fs_dir" 2>/dev/null || true
  if [ "$keep" -eq 1 ] || [ "$rc" -ne 0 ]; then echo "soak: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

RANDOM=$seed
started=$SECONDS
say() { printf '[soak %4ds] %s\n' $((SECONDS - started)) "$*"; }
say "seed $seed, $rounds round(s) of the faults in ${slot}s slots; work dir $work"

mkdir -p "$fs_dir"
mount -t tmpfs -o size=48m,mode=0755 tmpfs "$fs_dir"
store="$fs_dir/offmon.db"

cache_opts=()
[ -w "$(dirname "$offmon")" ] && cache_opts=(--initdb-cache "$(dirname "$offmon")/pg-initdb-cache")
"$here/tools/sandbox/pipeline.sh" start "$work/sandbox" --watch-pid $$ "${cache_opts[@]}" >"$work/sandbox.log" 2>&1 ||
  { tail -20 "$work/sandbox.log" >&2; exit 1; }
# shellcheck source=/dev/null
. "$work/sandbox/pipeline.env"
export PM2_HOME SOAK_CRASH_FILE="$work/crash"
psql=$(printf '%s\n' /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)
# The sandbox's three workers (as pipeline.sh starts them) and the soak's crasher; workers
# already online are left alone.
pm2_start_workers() {
  DATABASE_URL=$(cat "$work/sandbox/pg/superuser_url") PSQL=$psql OFFMON_SANDBOX="$work/sandbox" \
    "$here/tools/sandbox/pm2.sh" start "$work/sandbox/pm2" \
    "twzrd-aggregator=$here/tools/sandbox/workers/twzrd-aggregator.js" \
    "tree-builder-worker=$here/tools/sandbox/workers/tree-builder-worker.js" \
    "cls-worker-1=$here/tools/sandbox/workers/cls-worker-1.js" \
    "soak-crasher=$here/tools/soak/crasher.js" >/dev/null
}
pm2_start_workers

node "$here/tools/soak/receiver.js" "$work/receiver.port" "$work/received.jsonl" "$work/hang" &
receiver_pid=$!
for _ in $(seq 100); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
[ -s "$work/receiver.port" ] || { echo "soak: the receiver did not start" >&2; exit 1; }

# Short intervals and `for`s, so that each fault can fire and resolve within its slot.
cat >"$work/offmon.toml" <<TOML
[system]
interval = "2s"
disk_mounts = ["$fs_dir"]
[pm2]
binary = "$PM2_BIN"
home = "$PM2_HOME"
processes = ["twzrd-aggregator", "tree-builder-worker", "cls-worker-1", "soak-crasher"]
interval = "2s"
[postgres]
url_file = "$OFFMON_URL_FILE"
interval = "2s"
[log]
file = "$work/monitor.log"
[http]
listen = "127.0.0.1:0"
[analyzer]
interval = "2s"
aggregator = ["twzrd-aggregator"]
sealer = ["tree-builder-worker"]
[rules.DatabaseUnreachable]
for = "4s"
[rules.AllProcessesOffline]
for = "4s"
[rules.ProcessOffline]
for = "4s"
[rules.RestartLoop]
warning = 3
window = "$((slot / 2))s"
keep_firing_for = "4s"
[rules.DiskSpaceLow]
for = "4s"
[notify]
retry_initial = "1s"
retry_max = "4s"
timeout = "3s"
[notify.receivers.soak]
type = "webhook"
url = "http://127.0.0.1:$(cat "$work/receiver.port")/hook"
transitions = ["firing", "escalated", "resolved"]
min_severity = "WARNING"
TOML
"$offmon" --config "$work/offmon.toml" config check >"$work/config-check.out" 2>&1 ||
  { cat "$work/config-check.out" >&2; exit 1; }

# offmon runs under libfaketime, its wall clock offset by the file's content (read at most
# once a second); its monotonic clock, which its timers use, is never faked.
echo "+0" >"$work/clock-offset"
# ASan (the CI build) wants to come first in the library list; libfaketime only wraps
# clock calls, so its position does not matter to the sanitizers.
# `env` execs offmon, so $! is offmon's own pid (for the SIGKILL and the RSS samples).
on_offmons_clock=(env LD_PRELOAD="$faketime_lib" FAKETIME_TIMESTAMP_FILE="$work/clock-offset"
  FAKETIME_CACHE_DURATION=1 FAKETIME_DONT_FAKE_MONOTONIC=1
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" OFFMON_STORE="$store")
start_offmon() {
  "${on_offmons_clock[@]}" "$offmon" --config "$work/offmon.toml" collect >>"$work/collect.out" 2>&1 &
  offmon_pid=$!
}
# libfaketime cannot wrap a sanitizer build (ASan's start-up and libfaketime's wait on
# each other): such a binary soaks without the clock-step fault, and says so.
clock_step=1
if ! timeout 10 "${on_offmons_clock[@]}" "$offmon" --version >/dev/null 2>&1; then
  clock_step=0
  # ASan keeps freed memory in a 256 MB quarantine, so a sanitized daemon's RSS climbs
  # with its allocation rate until the quarantine is full, and "rss bounded" would
  # measure that (seen: 161 MB in the first third, 379 MB in the last, under load). A
  # small quarantine leaves the RSS to what the daemon holds.
  on_offmons_clock=(env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8" OFFMON_STORE="$store")
  say "libfaketime cannot wrap this binary (a sanitizer build?): no clock-step fault"
fi
start_offmon
# The daemon is up once it has opened its store and logged its listener.
for _ in $(seq 120); do
  grep -q 'http: listening on' "$work/monitor.log" 2>/dev/null && break
  kill -0 "$offmon_pid" 2>/dev/null || break
  sleep 0.5
done
grep -q 'http: listening on' "$work/monitor.log" 2>/dev/null ||
  { say "offmon did not start within 60 s:"; tail -5 "$work/collect.out" >&2; exit 1; }

# Snapshots: every sample the store holds, as min, mean, max and count per series and
# second. An epoch's series (epoch_*) are stamped with the epoch's seal time and restated
# there when the audit sees it change (published later, say): for them only the presence
# of the sample counts.
# One fixed grid for all of them, covering the run (and the clock step) with room to spare.
run_epoch=$(date +%s)
until_s=$((run_epoch + rounds * (7 * slot + 120) + 2 * slot + 600))
snapshot() {
  OFFMON_STORE="$store" "$offmon" trend '{__name__=~".+"}' --since "$((until_s - run_epoch + 3600))s" \
    --until "$until_s" --step 1s --csv 2>/dev/null |
    awk 'NR > 1 && $0 != ""' | sed -E '/^"?epoch_/ s/(,[^,]*){4}$//' | sort >"$1" || true
}
rss_log="$work/rss.log"
sample_rss() {
  local rss
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$offmon_pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$((SECONDS - started)) $rss" >>"$rss_log"
  return 0
}
# /healthz's status code ("none" when it does not answer), on the port the running
# daemon logged last (it listens on a free port; a restart picks another).
healthz_log="$work/healthz.log"
healthz() {
  local port status=none
  port=$(grep -o 'http: listening on 127.0.0.1:[0-9]*' "$work/monitor.log" 2>/dev/null | tail -1 | sed 's/.*://')
  # (The group silences bash's "connection refused" while offmon restarts.)
  if [ -n "$port" ] && { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3
    read -r -t 3 _ status _ <&3 || status=none
    exec 3<&-
  fi
  echo "$status"
}
# Waits until second $1 of the run, sampling RSS and /healthz, and watching that offmon
# still runs.
wait_until() {
  while [ $((SECONDS - started)) -lt "$1" ]; do
    if ! kill -0 "$offmon_pid" 2>/dev/null; then
      say "offmon exited on its own:"; tail -5 "$work/collect.out" >&2; exit 1
    fi
    sample_rss
    echo "$((SECONDS - started)) $(healthz)" >>"$healthz_log"
    sleep 1
  done
}

clock_offset=0
faults=(postgres-down pm2-killed crash-loop disk-full clock-step offmon-killed receiver-hangs)
[ "$clock_step" -eq 1 ] || faults=(postgres-down pm2-killed crash-loop disk-full offmon-killed receiver-hangs)
fault_start() {
  case "$1" in
    postgres-down) "$here/tools/sandbox/postgres.sh" stop "$work/sandbox/pg" >/dev/null 2>&1 ;;
    pm2-killed) "$PM2_BIN" kill >/dev/null 2>&1 || true ;;
    crash-loop) touch "$SOAK_CRASH_FILE"; "$PM2_BIN" restart soak-crasher >/dev/null 2>&1 ;;
    # First to 93 % (DiskSpaceLow's WARNING line is 90 %): the 3 % left at 97 % (1.4 MB)
    # was less than the store's WAL takes in a few cycles, so writes failed before the
    # alert's 4 s `for` could be stored, and whether it fired was down to timing.
    disk-full)
      local avail
      avail=$(df -B1 --output=avail "$fs_dir" | tail -1)
      fallocate -l $((avail - $(df -B1 --output=size "$fs_dir" | tail -1) * 7 / 100)) "$fs_dir/filler" ;;
    clock-step) clock_offset=$((clock_offset + 120)); echo "+$clock_offset" >"$work/clock-offset" ;;
    offmon-killed) kill -9 "$offmon_pid"; wait "$offmon_pid" 2>/dev/null || true; start_offmon ;;
    # Something to notify while it hangs: a worker stopped (ProcessOffline).
    receiver-hangs) touch "$work/hang"; "$PM2_BIN" stop cls-worker-1 >/dev/null 2>&1 ;;
  esac
}
fault_middle() {  # halfway through: a full disk fills to the last byte
  if [ "$1" = disk-full ]; then
    dd if=/dev/zero of="$fs_dir/filler-rest" bs=64k >/dev/null 2>&1 || true
  fi
}
fault_end() {
  case "$1" in
    postgres-down) "$here/tools/sandbox/postgres.sh" start "$work/sandbox/pg" >/dev/null 2>&1 ;;
    pm2-killed) pm2_start_workers ;;
    crash-loop) rm -f "$SOAK_CRASH_FILE"; "$PM2_BIN" restart soak-crasher >/dev/null 2>&1 ;;
    disk-full) rm -f "$fs_dir/filler" "$fs_dir/filler-rest" ;;
    receiver-hangs) "$PM2_BIN" restart cls-worker-1 >/dev/null 2>&1; rm -f "$work/hang" ;;
  esac
}

# Warm-up: the first cycles, then until the backfill of the sandbox's history is done (at
# most two minutes). A fixed 20 s was too short on a busy machine: the backfill still
# wrote into the small filesystem when the full-disk fault began, which then filled it
# before DiskSpaceLow's `for` had passed.
backfill_done() {
  OFFMON_STORE="$store" "$offmon" store info --json 2>/dev/null |
    node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); process.exit(d.backfill && d.backfill.done ? 0 : 1)'
}
wait_until 20
warm_until=$((SECONDS - started + 120))
until backfill_done; do
  [ $((SECONDS - started)) -lt "$warm_until" ] || { say "the backfill did not finish in two minutes"; exit 1; }
  wait_until $((SECONDS - started + 2))
done
say "warm: the backfill is done"
schedule="$work/schedule.txt"; : >"$schedule"
snapshots=0
t=$((SECONDS - started))
for ((round = 0; round < rounds; round++)); do
  order=("${faults[@]}")
  for ((i = ${#order[@]} - 1; i > 0; i--)); do  # Fisher-Yates, from the seed
    j=$((RANDOM % (i + 1))); tmp=${order[i]}; order[i]=${order[j]}; order[j]=$tmp
  done
  for fault in "${order[@]}"; do
    # A fault whose predecessor overran (PM2 takes long to start on a loaded machine)
    # starts late, but always lasts its whole length.
    begin=$((t + RANDOM % (slot / 3))); length=$((slot / 2))
    [ "$begin" -ge $((SECONDS - started)) ] || begin=$((SECONDS - started))
    wait_until "$begin"
    say "fault $fault for ${length}s"
    fault_start "$fault"
    # Alert times are offmon's clock: after the clock step, 120 s ahead of this script's.
    echo "$fault $(($(date +%s) + clock_offset)) $((begin)) $((begin + length))" >>"$schedule"
    wait_until $((begin + length / 2))
    fault_middle "$fault"
    wait_until $((begin + length))
    fault_end "$fault"
    say "fault $fault ended"
    snapshots=$((snapshots + 1)); snapshot "$work/snapshot.$snapshots"
    t=$((begin + slot - slot / 3))
  done
done
wait_until $((t + slot))  # cool-down: the last fault's alert resolves
kill -TERM "$offmon_pid"; wait "$offmon_pid" 2>/dev/null || true; offmon_pid=""
snapshot "$work/snapshot.final"
say "run over; checking"

export OFFMON_STORE="$store"
results=()
verdict=0
row() { results+=("$(printf '%-16s %-4s %s' "$1" "$2" "$3")"); [ "$2" = ok ] || [ "$2" = skip ] || verdict=1; }
[ "$clock_step" -eq 1 ] || row clock-step skip "libfaketime cannot wrap this (sanitizer) binary; run the soak on a release build for it"

lost=0; checked=0
for ((s = 1; s <= snapshots; s++)); do
  n=$(comm -23 "$work/snapshot.$s" "$work/snapshot.final" | wc -l)
  checked=$((checked + $(wc -l <"$work/snapshot.$s")))
  lost=$((lost + n))
done
if [ "$lost" -eq 0 ] && [ "$checked" -gt 0 ]; then
  row "samples kept" ok "$snapshots snapshots, $checked series-seconds, all present unchanged at the end"
else
  row "samples kept" FAIL "$lost of $checked series-seconds seen in snapshots are missing or changed at the end"
fi

if out=$("$offmon" store check 2>&1); then
  row "store check" ok "$(echo "$out" | tail -1)"
else
  row "store check" FAIL "$(echo "$out" | tail -1)"
fi

delivery=$(node -e '
  const fs = require("fs");
  const [eventsFile, receivedFile] = process.argv.slice(1);
  const queued = new Map(), delivered = new Map();
  for (const line of fs.readFileSync(eventsFile, "utf8").split("\n")) {
    if (!line) continue;
    const [kind, payload] = [Number(line.slice(0, line.indexOf("|"))), JSON.parse(line.slice(line.indexOf("|") + 1))];
    if (kind === 13) queued.set(payload.id, payload);
    if (kind === 14) delivered.set(payload.id, (delivered.get(payload.id) || 0) + 1);
  }
  const seen = new Map();
  if (fs.existsSync(receivedFile))
    for (const line of fs.readFileSync(receivedFile, "utf8").split("\n"))
      if (line) { const r = JSON.parse(line); seen.set(r.id, (seen.get(r.id) || 0) + 1); }
  let notOnce = 0, unseen = 0, repeats = 0;
  for (const id of queued.keys()) {
    if (delivered.get(id) !== 1) notOnce++;
    if (!seen.has(id)) unseen++;
    else repeats += seen.get(id) - 1;
  }
  console.log([queued.size, notOnce, unseen, repeats].join(" "));
' <(sqlite3 "file:$store?mode=ro" "select kind || '|' || payload from events where kind in (13, 14)") "$work/received.jsonl")
read -r queued not_once unseen repeats <<<"$delivery"
if [ "$queued" -gt 0 ] && [ "$not_once" -eq 0 ] && [ "$unseen" -eq 0 ]; then
  row "delivered once" ok "$queued notifications, each delivered once; receiver saw all ($repeats re-sends of an id after a kill or timeout, deduplicated by Idempotency-Key)"
else
  row "delivered once" FAIL "$queued queued, $not_once not delivered exactly once, $unseen never reached the receiver"
fi

read -r first_peak last_peak <<<"$(awk -v total=$((SECONDS - started)) '
  { if ($1 < total / 3 && $2 > f) f = $2; if ($1 > 2 * total / 3 && $2 > l) l = $2 }
  END { print f + 0, l + 0 }' "$rss_log")"
if [ "$first_peak" -gt 0 ] && [ "$last_peak" -le $((first_peak * 3 / 2 + 8192)) ]; then
  row "rss bounded" ok "peak $((first_peak / 1024)) MB in the first third, $((last_peak / 1024)) MB in the last"
else
  row "rss bounded" FAIL "peak $((first_peak / 1024)) MB in the first third, $((last_peak / 1024)) MB in the last"
fi

alerts_json="$work/alerts.json"
"$offmon" alerts --since 2d --until "$until_s" --json >"$alerts_json"
while read -r fault fault_epoch _ _; do
  case "$fault" in
    postgres-down) want=DatabaseUnreachable ;;
    pm2-killed) want=AllProcessesOffline ;;
    crash-loop) want=RestartLoop ;;
    disk-full) want=DiskSpaceLow ;;
    receiver-hangs) want=ProcessOffline ;;
    *) want="" ;;
  esac
  [ -n "$want" ] || continue
  verdict_line=$(node -e '
    const [name, fromMs, toMs] = [process.argv[1], Number(process.argv[2]) * 1000, Number(process.argv[3]) * 1000];
    const doc = JSON.parse(require("fs").readFileSync(process.argv[4], "utf8"));
    const episodes = [];
    (function walk(x) {
      if (Array.isArray(x)) { x.forEach(walk); return; }
      if (x && typeof x === "object") {
        if (x.alert === name && x.fired_at !== undefined) episodes.push(x);
        Object.values(x).forEach(walk);
      }
    })(doc);
    const start = (e) => Date.parse(e.active_since);
    const hit = episodes.find((e) => start(e) >= fromMs - 5000 && start(e) <= toMs);
    if (!hit) { console.log("FAIL no " + name + " began during the fault"); process.exit(0); }
    const resolved = hit.resolved_at;
    console.log(resolved ? "ok " + name + " from +" + Math.round((start(hit) - fromMs) / 1000) + "s, resolved"
                         : "FAIL " + name + " fired but was not resolved by the end");
  ' "$want" "$fault_epoch" "$((fault_epoch + slot * 3 / 2))" "$alerts_json")
  row "$fault" "${verdict_line%% *}" "${verdict_line#* }"
done <"$schedule"

# /healthz during each postgres-down, from 3 intervals (6 s) after it began to its end:
# never 200 (a database in backoff is not healthy); and 200 again at the end of the run.
healthz_bad=0; healthz_checked=0
while read -r fault _ begin_run end_run; do
  [ "$fault" = postgres-down ] || continue
  while read -r at code; do
    if [ "$at" -ge $((begin_run + 6)) ] && [ "$at" -lt "$end_run" ]; then
      healthz_checked=$((healthz_checked + 1))
      [ "$code" = 200 ] && healthz_bad=$((healthz_bad + 1))
    fi
  done <"$healthz_log"
done <"$schedule"
last_end=$(awk '{print $4}' "$schedule" | sort -n | tail -1)
healthy_after=$(awk -v e="$last_end" '$1 >= e && $2 == 200' "$healthz_log" | wc -l)
if [ "$healthz_checked" -gt 0 ] && [ "$healthz_bad" -eq 0 ] && [ "$healthy_after" -gt 0 ]; then
  row "healthz honest" ok "not 200 in any of $healthz_checked probes while PostgreSQL was down; 200 again after the last fault"
else
  row "healthz honest" FAIL "$healthz_bad of $healthz_checked probes while PostgreSQL was down said 200; $healthy_after probes said 200 after the last fault"
fi

unexpected=$(node -e '
  const doc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const expected = new Set(["DatabaseUnreachable", "AllProcessesOffline", "DiskSpaceLow"]);
  const names = new Set();
  (function walk(x) {
    if (Array.isArray(x)) { x.forEach(walk); return; }
    if (x && typeof x === "object") {
      if (x.fired_at !== undefined && x.severity === "CRITICAL" && !expected.has(x.alert)) names.add(x.alert);
      Object.values(x).forEach(walk);
    }
  })(doc);
  console.log([...names].join(" "));' "$alerts_json")
if [ -z "$unexpected" ]; then
  row "no false crit" ok "no CRITICAL beyond the faults' own"
else
  row "no false crit" FAIL "CRITICAL alerts no fault explains: $unexpected"
fi

echo
printf '%-16s %-4s %s\n' invariant ok? detail
printf '%s\n' "${results[@]}"
echo
say "seed $seed: $([ "$verdict" -eq 0 ] && echo 'all invariants hold' || echo 'INVARIANTS FAILED')"
exit "$verdict"
