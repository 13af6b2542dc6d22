#!/usr/bin/env bash
# ctest `dashboard_browser` (label browser): the web dashboard in a real headless Chromium
# (Debian's chromium, driven by puppeteer-core from .deps/npm), against a daemon
# collecting from the real sandbox (tools/sandbox/pipeline.sh: PostgreSQL + PM2).
#   1. starts the sandbox, adds a sealed epoch of a channel named <script>alert(1)</script>;
#   2. starts `offmon collect` on a free port of 0.0.0.0 (not loopback) with a bearer token
#      ([http] token_file) and short intervals;
#   3. runs dashboard_test.js, which checks the pages (see there) and writes the
#      screenshots docs/dashboard-overview.png and docs/dashboard-charts.png.
# Needs chromium (tools/setup.sh), node and tools/install_node_deps.sh's pm2 and
# puppeteer-core, the PostgreSQL server binaries; a missing one is a failure, never a skip.
#   tests/browser/dashboard_test.sh OFFMON_BINARY [SCREENSHOT_DIR]
set -euo pipefail
offmon=$(realpath -- "${1:?usage: dashboard_test.sh OFFMON_BINARY [SCREENSHOT_DIR]}")
src=$(cd "$(dirname "$0")/../.." && pwd)
shots=${2:-$src/docs}
chromium=${CHROMIUM:-/usr/bin/chromium}
modules="$src/.deps/npm/node_modules"
die() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$chromium" ] || die "chromium not found at $chromium (tools/setup.sh installs Debian's chromium)"
command -v node >/dev/null 2>&1 || die "node not found (tools/install_node_deps.sh)"
[ -d "$modules/puppeteer-core" ] || die "puppeteer-core not in $modules (run tools/install_node_deps.sh)"
command -v python3 >/dev/null 2>&1 || die "python3 not found (to pick a free port)"

work=$(mktemp -d "${TMPDIR:-/tmp}/offmon-browser.XXXXXX")
chmod 755 "$work"  # PostgreSQL runs as the postgres user under root
daemon=""
cleanup() {
  local rc=$?
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
  fi
  "$src/tools/sandbox/pipeline.sh" stop "$work" >/dev/null 2>&1 || echo "stopping the sandbox in $work failed" >&2
  if [ "$rc" -ne 0 ] && [ -f "$work/collect.stderr" ]; then
    echo "--- daemon stderr (last 30 lines)" >&2
    tail -30 "$work/collect.stderr" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cache_opts=()
[ -w "$(dirname "$offmon")" ] && cache_opts=(--initdb-cache "$(dirname "$offmon")/pg-initdb-cache")
"$src/tools/sandbox/pipeline.sh" start "$work" --days 3 --watch-pid $$ "${cache_opts[@]}" >"$work/sandbox.out"
# shellcheck source=/dev/null
. "$work/pipeline.env"

# A channel whose name is markup: it must render as text.
evil='<script>alert(1)</script>'
"$src/tools/sandbox/postgres.sh" psql "$work/pg" -v evil="$evil" <<'SQL'
INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published, token_group, category)
  VALUES (floor(extract(epoch from now()))::bigint / 60 * 60 - 120, :'evil', 'r',
          floor(extract(epoch from now()))::bigint - 60, 1, 'MILO', 'default');
INSERT INTO sealed_participants (epoch, channel, idx, user_hash)
  SELECT floor(extract(epoch from now()))::bigint / 60 * 60 - 120, :'evil', i, md5(i::text)
  FROM generate_series(0, 9) AS i;
SQL
channels=$("$src/tools/sandbox/postgres.sh" psql "$work/pg" -At -c "SELECT DISTINCT channel FROM sealed_epochs ORDER BY 1" |
  node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean)))')

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])')
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$token" >"$work/token"
chmod 600 "$work/token"
cat >"$work/offmon.toml" <<TOML
[store]
path = "$work/offmon.db"
[system]
interval = "2s"
[pm2]
binary = "$PM2_BIN"
home = "$PM2_HOME"
processes = ["twzrd-aggregator", "tree-builder-worker", "cls-worker-1"]
interval = "2s"
[postgres]
url_file = "$OFFMON_URL_FILE"
interval = "2s"
[log]
file = "$work/monitor.log"
[analyzer]
interval = "2s"
[http]
listen = "0.0.0.0:$port"
token_file = "$work/token"
TOML
"$offmon" --config "$work/offmon.toml" config check | grep -q "bearer token from token_file" ||
  die "config check does not show the token file"
env -u OFFMON_STORE -u OFFMON_CONFIG "$offmon" --config "$work/offmon.toml" collect 2>"$work/collect.stderr" &
daemon=$!

base="http://127.0.0.1:$port"
for _ in $(seq 150); do
  kill -0 "$daemon" 2>/dev/null || die "offmon collect exited early"
  grep -q "http: listening on" "$work/monitor.log" 2>/dev/null && break
  sleep 0.2
done
grep -q "http: listening on" "$work/monitor.log" 2>/dev/null || die "the daemon did not start listening"
echo "daemon listening on 0.0.0.0:$port (token required); sandbox in $work"

mkdir -p "$shots"
OFFMON_BASE="$base" OFFMON_TOKEN_FILE="$work/token" OFFMON_CHANNELS="$channels" OFFMON_EVIL="$evil" \
  OFFMON_PROCESSES='["twzrd-aggregator","tree-builder-worker","cls-worker-1"]' OFFMON_STOP="cls-worker-1" \
  OFFMON_PM2="$src/tools/sandbox/pm2.sh" OFFMON_PM2_DIR="$work/pm2" OFFMON_SHOTS="$shots" CHROMIUM="$chromium" \
  NODE_PATH="$modules" node "$src/tests/browser/dashboard_test.js"
