#!/usr/bin/env bash
# README command 1: offmon doing its main job on real components, on a fresh machine.
#   1. Installs what is missing (tools/setup.sh; idempotent, fast when done), then builds
#      the binary while step 2 runs beside the build (the sandbox needs no binary).
#   2. Starts a sandbox of the monitored stack in a temp directory (tools/sandbox/pipeline.sh):
#      PostgreSQL (as the postgres OS user when run as root) with the pipeline schema and
#      14 days of seeded history for 6 channels (daily seasonality, offline hours, and three
#      incidents: a participant drop, an epoch left unpublished, a missing hourly epoch),
#      and PM2 running the guide's workers twzrd-aggregator, tree-builder-worker and
#      cls-worker-1 (which leaks memory). Epochs are time-compressed: one a minute.
#   3. Runs `offmon collect` with short intervals for about a minute (longer, up to two
#      minutes more, until the seeded incidents have all fired), into the default store
#      ($OFFMON_STORE, else var/offmon.db). Nothing is imported: the PostgreSQL collector
#      reads the current state on its first cycle and backfills the 14 days of epoch history
#      from the database itself, newest first, as it would on a real pipeline.
#   4. Prints the health report, the dropped channel's participants trend, the leaking
#      worker's memory trend, the alert history and an escalation message.
# On exit, Ctrl-C or failure it stops exactly what it started. The store stays, for
# `build/offmon report`, `trend`, `alerts` afterwards; a store left by an earlier demo is
# replaced, any other is moved aside first (its new name is printed).
#
#   tools/demo.sh [--follow] [--short] [--seconds N] [--no-setup]
#     --follow      keep collecting and refresh the report every 30 s until Ctrl-C; prints
#                   the web dashboard's URL (a free loopback port; docs/dashboard.md)
#     --short       collect for 40 s instead of 60 (the ctest `demo` uses it)
#     --seconds N   collect for N seconds
#     --no-setup    do not run tools/setup.sh (the binary must exist)
#   OFFMON=PATH     the offmon binary (default build/offmon)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

follow=0; collect_seconds=60; setup=1; refresh_seconds=30
while [ $# -gt 0 ]; do
  case "$1" in
    --follow) follow=1; shift ;;
    --short) collect_seconds=40; shift ;;
    --seconds) collect_seconds=${2:?--seconds needs a number}; shift 2 ;;
    --no-setup) setup=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option $1 (see tools/demo.sh --help)" >&2; exit 2 ;;
  esac
done
[[ "$collect_seconds" =~ ^[0-9]+$ ]] || { echo "demo: --seconds needs a whole number" >&2; exit 2; }

offmon=${OFFMON:-$here/build/offmon}
started=$SECONDS
die() { echo "demo: $*" >&2; exit 1; }
section() { printf '\n\033[1m=== %s\033[0m\n' "$*" | if [ -t 1 ]; then cat; else sed 's/\x1b\[[0-9;]*m//g'; fi; }
# Prints the command as typed, then runs it; a failing command is shown, not fatal.
show() {
  local arg line="\$ offmon"
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./=:-]+$ ]]; then line+=" $arg"; else line+=" '$arg'"; fi
  done
  echo "$line"
  "$offmon" "$@" || echo "(offmon $1 exited with status $?)"
}

if [ "$setup" -eq 1 ]; then
  section "install what is missing (tools/setup.sh --install-only)"
  tools/setup.sh --install-only
fi

# Preflight: one clear line for whatever is missing.
[ "$setup" -eq 1 ] || [ -x "$offmon" ] || die "offmon binary not found at $offmon (run tools/setup.sh, or set OFFMON)"
command -v node >/dev/null 2>&1 || die "node not found in PATH (run tools/install_node_deps.sh)"
[ -x "$here/.deps/npm/node_modules/.bin/pm2" ] || die "pm2 not found in .deps/npm (run tools/install_node_deps.sh)"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "${PG_BIN:-}" ] ||
  die "PostgreSQL server binaries not found (install the postgresql package or set PG_BIN)"
command -v perl >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || die "need perl or python3 to find a free port"
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' OS user (install the postgresql package)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/offmon-demo.XXXXXX")
collector=""; sandbox_starter=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$sandbox_starter" ]; then
    kill -TERM "$sandbox_starter" 2>/dev/null || true
    wait "$sandbox_starter" 2>/dev/null || true
  fi
  if [ -n "$collector" ] && kill -0 "$collector" 2>/dev/null; then
    kill -TERM "$collector" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$collector" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$collector" 2>/dev/null || true
    wait "$collector" 2>/dev/null || true
  fi
  tools/sandbox/pipeline.sh stop "$work" >/dev/null 2>&1 || echo "demo: stopping the sandbox in $work failed" >&2
  rm -rf "$work"
  echo "demo: stopped the collector, PM2 and its workers, and PostgreSQL; removed $work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# The default store, made absolute so every command below uses the same file.
store=$(realpath -m -- "${OFFMON_STORE:-var/offmon.db}")
export OFFMON_STORE="$store"
mkdir -p "$(dirname "$store")"
# A store remembers the epochs it saw; another sandbox's epochs would look vanished
# (EpochDataLoss). So the demo starts from an empty store.
if [ -e "$store" ]; then
  if [ -e "$store.demo" ]; then
    rm -f "$store" "$store-wal" "$store-shm"
  else
    aside="$store.before-demo.$(date +%Y%m%d-%H%M%S)"
    mv "$store" "$aside"
    for s in -wal -shm; do [ -e "$store$s" ] && mv "$store$s" "$aside$s"; done
    echo "demo: moved the existing store $store to $aside"
  fi
fi
echo "written by tools/demo.sh; the next demo replaces this store" >"$store.demo"
log_file="$(dirname "$store")/monitor.log"

# initdb once per build directory (when it is ours to write); later runs copy its result.
[ "$setup" -eq 1 ] && { mkdir -p "$(dirname "$offmon")" 2>/dev/null || true; }
cache_opts=()
[ -w "$(dirname "$offmon")" ] && cache_opts=(--initdb-cache "$(dirname "$offmon")/pg-initdb-cache")
tools/sandbox/pipeline.sh start "$work" --watch-pid $$ "${cache_opts[@]}" >"$work/sandbox.log" 2>&1 &
sandbox_starter=$!
if [ "$setup" -eq 1 ]; then
  section "build offmon (tools/setup.sh --target offmon) while the sandbox starts in $work"
  tools/setup.sh --target offmon
  [ -x "$offmon" ] || die "offmon binary not found at $offmon after the build (set OFFMON?)"
fi
section "sandbox in $work"
sandbox_rc=0
wait "$sandbox_starter" || sandbox_rc=$?
sandbox_starter=""
cat "$work/sandbox.log"
[ "$sandbox_rc" -eq 0 ] || die "the sandbox did not start (exit $sandbox_rc; its output is above)"
# shellcheck source=/dev/null
. "$work/pipeline.env"

cat >"$work/offmon.toml" <<TOML
# The demo's configuration: every collector on a short interval.
[system]
interval = "2s"
[pm2]
binary = "$PM2_BIN"
home = "$PM2_HOME"
processes = ["twzrd-aggregator", "tree-builder-worker", "cls-worker-1"]
interval = "3s"
[postgres]
url_file = "$OFFMON_URL_FILE"
# 2 s, not 1: a catch-up cycle on a busy machine takes over 2 s, and a collector that has
# not run for two intervals (and 30 s) is a CollectorFailing WARNING, which the demo must
# not show.
interval = "2s"
[log]
file = "$log_file"
[analyzer]
interval = "5s"
[http]
# A free port on loopback (logged); --follow prints the dashboard's URL.
listen = "127.0.0.1:0"
TOML

section "offmon collect for ${collect_seconds}s (system 2 s, PM2 3 s, PostgreSQL 2 s, rules 5 s)"
echo "\$ offmon --config $work/offmon.toml collect    # log: $log_file"
log_lines=0; [ -f "$log_file" ] && log_lines=$(wc -l <"$log_file")
"$offmon" --config "$work/offmon.toml" collect 2>"$work/collect.stderr" &
collector=$!

# The daemon logs each transition as "TIME LEVEL firing SEVERITY ALERT{...}: ..."; only
# the lines this run added count.
fired_lines() {
  tail -n +"$((log_lines + 1))" "$log_file" 2>/dev/null | grep -E '^[^ ]+ [a-z]+ firing (WARNING|CRITICAL) ' || true
}
progress() {
  local epochs
  kill -0 "$collector" 2>/dev/null || { tail -5 "$work/collect.stderr" >&2; die "offmon collect exited early"; }
  epochs=$("$offmon" store info 2>/dev/null | awk '$1 == "epoch_sealed" {print $2}' || true)
  printf '  %3ds: %s sealed epochs in the store, %s WARNING/CRITICAL alerts fired\n' \
    "$1" "${epochs:-0}" "$(fired_lines | grep -c . || true)"
}
# The epoch incidents are judged on the state PostgreSQL already holds, so they fire in
# the first evaluations; the leak needs minutes of samples to be proven.
epoch_incidents_fired() {
  local fired
  fired=$(fired_lines)
  grep -q "EpochUnpublished{channel=\"$UNPUBLISHED_CHANNEL\"" <<<"$fired" &&
    grep -q "EpochMissing{channel=\"$MISSING_CHANNEL\"" <<<"$fired"
}
# Whether each seeded incident has fired (the four the demo promises). A loaded machine
# samples the leaking worker less often, so its leak takes longer to prove.
seeded_fired() {
  local fired
  fired=$(fired_lines)
  epoch_incidents_fired &&
    grep -q "ParticipantDrop{channel=\"$DROP_CHANNEL\"" <<<"$fired" &&
    grep -q "MemoryLeak{process=\"$LEAKING_PROCESS\"" <<<"$fired"
}
collect_start=$SECONDS
first_report=0
# At least the asked-for time; without --follow, then until every seeded incident has
# fired, at most two minutes more. The first report comes as soon as the epoch incidents
# have fired (or after 30 s), while the collection goes on.
while [ $((SECONDS - collect_start)) -lt "$collect_seconds" ] ||
  { [ "$follow" -eq 0 ] && [ $((SECONDS - collect_start)) -lt $((collect_seconds + 120)) ] && ! seeded_fired; }; do
  sleep 5
  progress $((SECONDS - collect_start))
  if [ "$first_report" -eq 0 ] && { epoch_incidents_fired || [ $((SECONDS - collect_start)) -ge 30 ]; }; then
    first_report=1
    section "first report: $((SECONDS - started))s after the demo started, $((SECONDS - collect_start))s of collection (it goes on)"
    show report
    section "collecting on until every seeded incident has fired (the leak takes minutes of samples)"
  fi
done

print_all() {
  section "health report"
  show report
  section "participants of the dropped channel"
  show trend participants --channel "$DROP_CHANNEL" --since 3d
  section "memory of the leaking worker (MemoryLeak: a steady climb that reaches the 4 GiB limit within hours)"
  show trend memory --process "$LEAKING_PROCESS" --since "$((SECONDS - collect_start + 20))s" --step 6s
  section "alert history"
  show alerts
  section "escalation"
  if "$offmon" escalate --all-critical >/dev/null 2>&1; then
    show escalate --all-critical
  else
    echo "(no firing CRITICAL alert: the message for the participant drop instead)"
    show escalate "ParticipantDrop{channel=\"$DROP_CHANNEL\"}"
  fi
}

if [ "$follow" -eq 0 ]; then
  kill -TERM "$collector" 2>/dev/null || true
  wait "$collector" 2>/dev/null || true
  collector=""
  print_all
  section "done in $((SECONDS - started))s"
  echo "The store stays at $store (log: $log_file). Try:"
  echo "  $offmon report    $offmon alerts    $offmon analyze --from now-2d"
  echo "  $offmon trend participants --channel $DROP_CHANNEL --since 14d"
  exit 0
fi

# The daemon logs "http: listening on 127.0.0.1:PORT"; only the lines this run added count.
dashboard_url() {
  tail -n +"$((log_lines + 1))" "$log_file" 2>/dev/null | grep -o 'http: listening on [0-9.]*:[0-9]*' | tail -1 |
    sed 's/^http: listening on /http:\/\//; s/$/\//'
}
print_all
section "following: collecting, refreshing every ${refresh_seconds}s; Ctrl-C stops everything"
url=$(dashboard_url)
if [ -n "$url" ]; then echo "dashboard: $url (overview, /charts, /alerts; docs/dashboard.md)"; fi
while true; do
  sleep "$refresh_seconds"
  progress $((SECONDS - collect_start))
  if [ -t 1 ]; then clear; fi
  section "health report, $(date -u +%Y-%m-%dT%H:%M:%SZ) (Ctrl-C stops everything)"
  show report
  section "active alerts"
  show alerts --active
  if [ -n "$url" ]; then echo "dashboard: $url"; fi
done
