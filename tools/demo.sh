#!/usr/bin/env bash
# README command 1: installs what is missing, builds, then runs offmon's main job on the
# default embedded store (var/offmon.db): one collection cycle of this machine, then the
# health report and the store's summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
tools/setup.sh
build/offmon collect --once
build/offmon report
build/offmon store info
