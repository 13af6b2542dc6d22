#!/bin/sh
# A stand-in for pm2 in collector tests, steered by files in $PM2_HOME: records the call
# in calls, prints jlist.err to stderr and jlist.out to stdout, then exits with the code
# in exit_code (default 0). Only `jlist` is understood, like the collector needs.
echo "$*" >>"$PM2_HOME/calls"
[ "$1" = jlist ] || { echo "fake pm2: unsupported command: $*" >&2; exit 64; }
[ -f "$PM2_HOME/jlist.err" ] && cat "$PM2_HOME/jlist.err" >&2
[ -f "$PM2_HOME/jlist.out" ] && cat "$PM2_HOME/jlist.out"
exit "$(cat "$PM2_HOME/exit_code" 2>/dev/null || echo 0)"
