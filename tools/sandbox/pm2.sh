#!/usr/bin/env bash
# A throwaway PM2 daemon running Node workers, for offmon's tests and demo. Everything
# lives in DIR/pm2home (PM2_HOME): the daemon, its sockets and the workers' logs; the
# user's own ~/.pm2 is never touched. Uses the project-local pm2 installed by
# tools/install_node_deps.sh (or $PM2); installs nothing itself.
#
#   pm2.sh start DIR [--watch-pid PID] NAME=SCRIPT [--OPTION[=VALUE]...] [NAME=SCRIPT...]
#       starts each worker as `pm2 start SCRIPT --name NAME OPTIONS...`; the options after
#       a NAME=SCRIPT belong to it and must be written as one word each, e.g.
#       leaky=leaky.js --max-memory-restart=200M crash=crash_loop.js --max-restarts=2.
#       SCRIPT is a path, or a file name in tests/pm2/workers/. A NAME already known to
#       this PM2 is left alone when online and restarted otherwise, so a second start is
#       harmless. Prints one line per worker and, last, PM2_HOME=...
#       --watch-pid PID: a detached watchdog kills this PM2 once PID has exited (so a
#       crashed test run leaves no CPU burner behind).
#   pm2.sh stop DIR          `pm2 kill` for DIR/pm2home; succeeds when nothing runs
#   pm2.sh pm2 DIR ARGS...   runs pm2 ARGS with PM2_HOME=DIR/pm2home (e.g. stop steady)
#
# Works as root and as a normal user: the daemon and workers run as the caller.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
root=$(cd "$here/../.." && pwd)
pm2=${PM2:-$root/.deps/npm/node_modules/.bin/pm2}

die() { echo "pm2.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

check_pm2() {
  [ -x "$pm2" ] || die "pm2 not found at $pm2 (run tools/install_node_deps.sh, or set PM2)"
  command -v node >/dev/null 2>&1 || die "node not found in PATH (run tools/install_node_deps.sh)"
}

# Sets `home` for DIR and exports what every pm2 call here needs.
use_dir() {
  [ -n "${1:-}" ] || usage
  home="$(realpath -m -- "$1")/pm2home"
  # A unix socket path must fit in sockaddr_un (108 bytes with the terminating NUL).
  [ "${#home}" -le 96 ] || die "DIR too long for PM2's sockets: $home/rpc.sock exceeds 107 bytes"
  export PM2_HOME="$home"
  # Without `touch` the first pm2 call prints a banner and reports the install to PM2's
  # servers; the daemon's daily version check is switched off for the same reason.
  export PM2_DISABLE_VERSION_CHECK=true
}

daemon_pid() {  # prints the daemon's pid when it is alive
  local pid
  pid=$(cat "$home/pm2.pid" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
  return 0
}

# "NAME STATUS" lines for every process this PM2 knows (starting the daemon if needed):
# one pm2 call for all workers, since each call costs a Node start-up.
list_statuses() {
  # shellcheck disable=SC2016  # the quoted text is JavaScript, with its own ${...}
  "$pm2" jlist 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => { s += d; });
    process.stdin.on("end", () => {
      const i = s.lastIndexOf("\n[");
      let list = [];
      try { list = JSON.parse(i >= 0 ? s.slice(i + 1) : s.slice(s.indexOf("["))); } catch (e) {}
      for (const p of list) console.log(`${p.name} ${p.pm2_env.status}`);
    });'
}

resolve_script() {
  if [ -f "$1" ]; then realpath -- "$1"
  elif [ -f "$root/tests/pm2/workers/$1" ]; then echo "$root/tests/pm2/workers/$1"
  else die "script $1 not found (as a path, nor in tests/pm2/workers/)"
  fi
}

start_one() {  # NAME SCRIPT OPTIONS...
  local name=$1 script=$2; shift 2
  local status
  status=$(awk -v n="$name" '$1 == n { print $2; exit }' <<<"$statuses")
  case "$status" in
    online) echo "$name: already online" ;;
    "")
      "$pm2" start "$script" --name "$name" "$@" >/dev/null ||
        die "pm2 start $script --name $name $* failed"
      echo "$name: started $script${*:+ $*}" ;;
    *)
      "$pm2" restart "$name" >/dev/null || die "pm2 restart $name failed"
      echo "$name: was $status, restarted" ;;
  esac
}

cmd_start() {
  use_dir "${1:-}"; shift
  check_pm2
  local watch_pid=""
  if [ "${1:-}" = "--watch-pid" ]; then
    watch_pid=${2:?--watch-pid needs a PID}; shift 2
    [[ "$watch_pid" =~ ^[0-9]+$ ]] || die "--watch-pid: '$watch_pid' is not a pid"
  fi
  [ $# -gt 0 ] || die "start: no NAME=SCRIPT given"
  [[ "$1" == *=* && "$1" != -* ]] || die "start: expected NAME=SCRIPT, got '$1'"
  mkdir -p "$home"
  [ -e "$home/touch" ] || date +%s000 >"$home/touch"

  if [ -n "$watch_pid" ]; then
    (setsid "$self" _watch "$(dirname "$home")" "$watch_pid" </dev/null >/dev/null 2>&1 &)
  fi

  local statuses
  statuses=$(list_statuses)
  # Collects each NAME=SCRIPT with the options that follow it, then starts it.
  local name="" script="" opts=()
  local arg
  for arg in "$@" ""; do
    if [ -n "$arg" ] && [[ "$arg" == -* ]]; then
      opts+=("$arg")
      continue
    fi
    if [ -n "$name" ]; then start_one "$name" "$script" "${opts[@]}"; fi
    [ -n "$arg" ] || break
    [[ "$arg" == *=* ]] || die "start: expected NAME=SCRIPT, got '$arg'"
    name=${arg%%=*}
    script=$(resolve_script "${arg#*=}")
    [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "start: name '$name' may only contain letters, digits and . _ -"
    opts=()
  done
  echo "PM2_HOME=$home"
}

cmd_stop() {
  use_dir "${1:-}"
  if [ -S "$home/rpc.sock" ] && [ -n "$(daemon_pid)" ]; then
    check_pm2
    "$pm2" kill >/dev/null 2>&1 || true
  fi
  # A daemon whose socket is gone cannot be asked; signal it directly (it stops its
  # workers on SIGTERM).
  local pid
  pid=$(daemon_pid)
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
  echo "stopped PM2 in $home"
}

cmd_pm2() {
  use_dir "${1:-}"; shift
  check_pm2
  [ -S "$home/rpc.sock" ] || die "no PM2 running in $home (run: pm2.sh start ...)"
  exec "$pm2" "$@"
}

# Internal: kills the PM2 in DIR once process PID is gone (or DIR was removed).
cmd_watch() {
  local dir=$1 pid=$2 daemon=""
  use_dir "$dir"
  while kill -0 "$pid" 2>/dev/null && [ -d "$home" ]; do
    daemon=$(daemon_pid)
    sleep 1
  done
  if [ -d "$home" ]; then
    cmd_stop "$dir" >/dev/null 2>&1 || true
  elif [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon" 2>/dev/null || true
  fi
}

command -v realpath >/dev/null 2>&1 || die "missing realpath (coreutils)"
case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  pm2) shift; cmd_pm2 "$@" ;;
  _watch) shift; cmd_watch "$@" ;;
  *) usage ;;
esac
