#!/usr/bin/env bash
# The labelled accuracy suite (docs/accuracy.md), in one command: builds offmon and
# offmon_accuracy (release) if needed, runs every scenario through the shipped binary
# and the peers, and prints the comparison table, the issue's targets and (with
# --details) the per-family results.
#   tools/accuracy.sh [--subset fast|full] [--details] [other offmon_accuracy flags]
# Environment:
#   BUILD_DIR   build directory (default build/); only the two targets are built
#   JOBS        parallel build jobs and scenarios (default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$here/build}
jobs=${JOBS:-2}

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DOFFMON_BENCH=ON >/dev/null
fi
cmake --build "$build_dir" -j "$jobs" --target offmon offmon_accuracy >&2
exec "$build_dir/bench/accuracy/offmon_accuracy" --offmon "$build_dir/offmon" --jobs "$jobs" "$@"
