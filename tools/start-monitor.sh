#!/usr/bin/env bash
# The guide's start-monitor.sh, for offmon: runs the daemon (`offmon collect`) in a
# detached screen or tmux session, from the current directory, so its .env file
# ([postgres] env_file, default ".env") supplies DATABASE_URL as in the guide. The daemon
# logs to the config's [log] file (default var/monitor.log; set it to ~/.pm2/monitor.log
# to keep the guide's path), including the health report after each analysis.
#
#   tools/start-monitor.sh [--config FILE] [--session NAME] [--restart]
#   tools/start-monitor.sh --stop [--session NAME]
#   tools/start-monitor.sh --status [--session NAME]
#
#   --config FILE   offmon's config (default: $OFFMON_CONFIG, else ./offmon.toml when it
#                   exists, else the built-in defaults); checked before anything starts
#   --session NAME  screen/tmux session name (default: $OFFMON_SESSION, else offmon-monitor;
#                   the guide's own name is milo-monitor)
#   --restart       stop a running session first (e.g. after upgrading offmon; a config
#                   change only needs SIGHUP: the daemon reloads it)
#   --stop          Ctrl-C to the daemon (it finishes its writes and exits), then waits
#                   for the session to end (replaces the guide's `pkill -f monitor.ts`)
#   --status        whether the session runs, and where the log is
#
# screen is used when installed, else tmux ($OFFMON_MULTIPLEXER=screen|tmux chooses).
# The binary: $OFFMON, else build/offmon next to this script, else offmon in PATH.
# A daemon that exits with an error leaves its session open for 10 minutes, showing why.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "start-monitor: $*" >&2; exit 1; }

config=${OFFMON_CONFIG:-}
[ -z "$config" ] && [ -f offmon.toml ] && config=offmon.toml
session=${OFFMON_SESSION:-offmon-monitor}
action=start
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=${2:?--config needs a file}; shift 2 ;;
    --session) session=${2:?--session needs a name}; shift 2 ;;
    --restart) action=restart; shift ;;
    --stop) action=stop; shift ;;
    --status) action=status; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$session" =~ ^[A-Za-z0-9._-]+$ ]] || die "session name '$session' may only contain letters, digits and . _ -"

if [ -n "${OFFMON:-}" ]; then offmon=$OFFMON
elif [ -x "$here/build/offmon" ]; then offmon=$here/build/offmon
else offmon=$(command -v offmon) || die "offmon not found (build it with tools/setup.sh, or set OFFMON)"
fi
offmon=$(realpath -- "$offmon")

mux=${OFFMON_MULTIPLEXER:-}
if [ -z "$mux" ]; then
  if command -v screen >/dev/null 2>&1; then mux=screen
  elif command -v tmux >/dev/null 2>&1; then mux=tmux
  else die "neither screen nor tmux is installed (apt-get install screen), or run offmon under systemd or PM2 (docs/operations.md)"
  fi
fi
case "$mux" in screen|tmux) command -v "$mux" >/dev/null 2>&1 || die "$mux is not installed" ;;
  *) die "OFFMON_MULTIPLEXER must be screen or tmux" ;; esac

running() {
  if [ "$mux" = screen ]; then screen -ls "$session" 2>/dev/null | grep -q "[0-9]\.${session}[[:space:]]"
  else tmux has-session -t "=$session" 2>/dev/null
  fi
}

stop_session() {
  running || { echo "no $mux session $session"; return 0; }
  # SIGINT stops the daemon after the writes in progress; SIGHUP (what closing a screen
  # window sends) would only make it reload its config.
  if [ "$mux" = screen ]; then screen -S "$session" -p 0 -X stuff $'\003'
  else tmux send-keys -t "=$session:" C-c
  fi
  for _ in $(seq 60); do running || { echo "stopped $session"; return 0; }; sleep 0.5; done
  die "session $session still runs after 30 s; attach to see why ($([ "$mux" = screen ] && echo "screen -r $session" || echo "tmux attach -t $session"))"
}

config_args=()
[ -n "$config" ] && config_args=(--config "$(realpath -- "$config")")
# The log file the daemon writes, as offmon reads it from the config.
log_file() { "$offmon" "${config_args[@]}" config check 2>/dev/null | sed -n 's/^log: \(.*\) (rotated.*/\1/p'; }

case "$action" in
  stop) stop_session; exit 0 ;;
  status)
    if running; then echo "$session runs in $mux; log: $(log_file)"; exit 0; fi
    echo "$session is not running"; exit 3 ;;
  restart) stop_session ;;
  start) running && die "$session is already running (attach: $([ "$mux" = screen ] && echo "screen -r $session" || echo "tmux attach -t $session"); restart: $0 --restart)" ;;
esac

# Fails here, with the config's own message, rather than inside a detached session.
"$offmon" "${config_args[@]}" config check >/dev/null || die "the config does not check out (above); nothing started"
log=$(log_file)
mkdir -p "$(dirname "$log")"

# The session's command: the daemon in the foreground; on an error exit, the reason stays
# on screen for 10 minutes.
printf -v run '%q ' "$offmon" "${config_args[@]}" collect
inner="$run; rc=\$?; if [ \$rc -ne 0 ]; then echo \"offmon collect exited with status \$rc at \$(date); log: $log\"; sleep 600; fi"
if [ "$mux" = screen ]; then
  screen -dmS "$session" bash -c "$inner"
else
  tmux new-session -d -s "$session" "bash -c $(printf '%q' "$inner")"
fi
sleep 1
running || die "the session ended at once; run $run in a terminal to see why"

echo "offmon collect runs in $mux session $session (from $(pwd))"
echo "  log:     tail -f $log"
echo "  alerts:  grep \"CRITICAL\\|WARNING\" $log"
if [ "$mux" = screen ]; then
  echo "  attach:  screen -r $session      (detach: Ctrl+A, then D)"
else
  echo "  attach:  tmux attach -t $session (detach: Ctrl+B, then D)"
fi
echo "  stop:    $0 --stop${session:+ --session $session}"
