#!/usr/bin/env bash
# Builds a release offmon and its Debian package: build-release/offmon_<version>_amd64.deb
# (cmake/offmon_package.cmake lists what it holds). Installs missing build packages first
# (tools/setup.sh --install-only). Prints the .deb's path on its last line.
#   tools/package.sh [--build-dir DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$here/build-release"
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    *) echo "package.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
"$here/tools/setup.sh" --install-only >/dev/null
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DOFFMON_TESTS=OFF -DOFFMON_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target offmon
(cd "$build_dir" && cpack -G DEB >/dev/null)
deb=$(ls -t "$build_dir"/offmon_*_*.deb | head -1)
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\):/\1:/p'
echo "$deb"
