#!/usr/bin/env bash
# Installs the Node tools the PM2 tests and the sandbox use (pm2), and the dashboard's
# browser test (puppeteer-core, driving Debian's chromium), into the project-local
# folder .deps/npm, at the versions pinned by tools/npm/package-lock.json, so every
# machine runs the same pm2. Installs Debian's nodejs and npm only when node is missing.
# Idempotent: when the installed tree matches the lock file it does nothing.
# Prints the pm2 path on its last line.
#   tools/install_node_deps.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/.deps/npm"
pm2="$dest/node_modules/.bin/pm2"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install_node_deps: installing nodejs npm"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    nodejs npm >/dev/null
fi

# The stamp ties the installed tree to the lock it came from: a changed pin reinstalls.
stamp=$(cat "$here/tools/npm/package.json" "$here/tools/npm/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ -x "$pm2" ] && [ "$(cat "$dest/.offmon-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$pm2"
  exit 0
fi

mkdir -p "$dest"
cp "$here/tools/npm/package.json" "$here/tools/npm/package-lock.json" "$dest/"
echo "install_node_deps: npm ci into $dest"
# npm ci installs exactly the lock file and fails if package.json disagrees with it.
npm ci --prefix "$dest" --no-audit --no-fund --loglevel=error >/dev/null
[ -x "$pm2" ] || { echo "install_node_deps: $pm2 missing after npm ci" >&2; exit 1; }
echo "$stamp" > "$dest/.offmon-stamp"
echo "$pm2"
