#!/usr/bin/env bash
# ctest `init` (labels pg, pm2): `offmon init` on real components.
#   1. Against the sandbox (tools/sandbox/pipeline.sh start, 2 days of history): with the
#      operator's PM2_HOME, pm2 in PATH and DATABASE_URL in a .env file, it writes a config
#      that `offmon config check` accepts, that names every PM2 process, the channels, the
#      roles and the .env file, and never the password; `offmon check` with it then
#      collects from PM2 and PostgreSQL with no collector failure.
#   2. It refuses to replace the file without --force (exit 1, one line), and replaces it with.
#   3. On a host without PM2 or database (a PM2_HOME with no daemon, no DATABASE_URL, no
#      .env) it says what is missing, one line each, exits 0 and writes a file that
#      `config check` accepts and `offmon check` runs with (pm2 and postgres disabled).
# Needs what the sandbox needs (PostgreSQL server binaries, node, the project's pm2); a
# missing one is a failure, never a skip.
#   tests/init/init_test.sh OFFMON_BINARY
set -euo pipefail
offmon=$(realpath -- "${1:?usage: init_test.sh OFFMON_BINARY}")
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/offmon-init-test.XXXXXX")
chmod 755 "$tmp"
cleanup() {
  "$src/tools/sandbox/pipeline.sh" stop "$tmp/sbx" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
has() { grep -qF -- "$2" "$1" || fail "$3: no '$2' in $(basename "$1")"; }

"$src/tools/sandbox/pipeline.sh" start "$tmp/sbx" --days 2 --watch-pid $$ >"$tmp/sandbox.out"
# shellcheck source=/dev/null
. "$tmp/sbx/pipeline.env"
url=$(cat "$OFFMON_URL_FILE")
password=$(node -e 'const u = new URL(process.argv[1]); process.stdout.write(decodeURIComponent(u.password))' "$url")
[ -n "$password" ] || fail "the sandbox URL has no password to guard"
channels=$("$src/tools/sandbox/postgres.sh" psql "$tmp/sbx/pg" -At -c "SELECT DISTINCT channel FROM sealed_epochs ORDER BY 1")

# 1. The sandbox host: run from a directory holding the operator's .env.
mkdir -p "$tmp/host"
printf 'DATABASE_URL=%s\n' "$url" >"$tmp/host/.env"
chmod 600 "$tmp/host/.env"
pm2_dir=$(dirname "$PM2_BIN")
(cd "$tmp/host" && env -u DATABASE_URL PATH="$pm2_dir:$PATH" PM2_HOME="$PM2_HOME" "$offmon" init >"$tmp/init.out" 2>&1) ||
  fail "offmon init exited $? on the sandbox host: $(cat "$tmp/init.out")"
config="$tmp/host/offmon.toml"
[ -f "$config" ] || fail "offmon init wrote no $config"
for p in twzrd-aggregator tree-builder-worker cls-worker-1; do has "$config" "\"$p\"" "process $p"; done
while read -r c; do has "$config" "$c" "channel $c"; done <<<"$channels"
has "$config" "env_file = \"$tmp/host/.env\"" "the .env file"
has "$config" "aggregator = [\"twzrd-aggregator\"]" "the aggregator role"
has "$config" "sealer = [\"tree-builder-worker\"]" "the sealer role"
has "$config" "home = \"$PM2_HOME\"" "PM2_HOME"
has "$tmp/init.out" "found: table sealed_participants" "the summary"
if grep -qF -- "$password" "$config" "$tmp/init.out"; then fail "the password appears in the config or the output"; fi
(cd "$tmp/host" && "$offmon" config check "$config" >"$tmp/check-config.out" 2>&1) ||
  fail "config check rejects the generated config: $(cat "$tmp/check-config.out")"
# `offmon check` runs one cycle of every collector with it: PM2 and PostgreSQL answer.
(cd "$tmp/host" && env -u DATABASE_URL "$offmon" --config "$config" --store "$tmp/host/offmon.db" check --json \
  >"$tmp/check.json" 2>"$tmp/check.err") || true
if grep -qiE 'pm2|postgres' "$tmp/check.err"; then fail "a collector failed with the generated config: $(cat "$tmp/check.err")"; fi
node -e '
  const doc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const names = doc.processes.map((p) => p.name).sort().join(",");
  if (names !== "cls-worker-1,tree-builder-worker,twzrd-aggregator") throw new Error("processes: " + names);
  if (!doc.database.up || doc.database.up.value !== 1) throw new Error("database up: " + JSON.stringify(doc.database.up));
' "$tmp/check.json" || fail "offmon check with the generated config did not see PM2 and the database"

# The daemon is asked over its socket: no pm2 in PATH is needed to find its processes.
(cd "$tmp/host" && env -u DATABASE_URL PATH=/usr/bin:/bin PM2_HOME="$PM2_HOME" "$offmon" init --output "$tmp/no-pm2.toml" \
  >"$tmp/no-pm2.out" 2>&1) || fail "offmon init without pm2 in PATH exited $?: $(cat "$tmp/no-pm2.out")"
for p in twzrd-aggregator tree-builder-worker cls-worker-1; do has "$tmp/no-pm2.toml" "\"$p\"" "process $p (no pm2 in PATH)"; done

# 2. No replacement without --force.
before=$(sha256sum "$config")
rc=0; (cd "$tmp/host" && PATH="$pm2_dir:$PATH" PM2_HOME="$PM2_HOME" "$offmon" init >"$tmp/again.out" 2>"$tmp/again.err") || rc=$?
[ "$rc" -eq 1 ] || fail "a second init exited $rc, expected 1"
[ "$(wc -l <"$tmp/again.err")" -eq 1 ] || fail "a second init did not say why in one line: $(cat "$tmp/again.err")"
has "$tmp/again.err" "--force" "the refusal"
[ "$(sha256sum "$config")" = "$before" ] || fail "a second init without --force changed the file"
(cd "$tmp/host" && PATH="$pm2_dir:$PATH" PM2_HOME="$PM2_HOME" "$offmon" init --force >/dev/null 2>&1) ||
  fail "init --force failed"

# 3. A bare host: PM2_HOME without a daemon, no DATABASE_URL, no .env.
mkdir -p "$tmp/bare/pm2home"
(cd "$tmp/bare" && env -u DATABASE_URL PATH="$pm2_dir:$PATH" PM2_HOME="$tmp/bare/pm2home" \
  "$offmon" init --output "$tmp/bare/bare.toml" >"$tmp/bare.out" 2>&1) ||
  fail "offmon init on a bare host exited $?: $(cat "$tmp/bare.out")"
has "$tmp/bare.out" "missing: pm2: PM2 daemon not running" "the bare host's summary"
has "$tmp/bare.out" "missing: database: " "the bare host's summary"
[ "$(grep -c '^missing: ' "$tmp/bare.out")" -eq 2 ] || fail "expected two 'missing:' lines: $(cat "$tmp/bare.out")"
[ ! -e "$tmp/bare/pm2home/rpc.sock" ] || fail "offmon init started a PM2 daemon"
(cd "$tmp/bare" && "$offmon" config check "$tmp/bare/bare.toml" >/dev/null 2>&1) || fail "config check rejects the bare config"
(cd "$tmp/bare" && env -u DATABASE_URL "$offmon" --config "$tmp/bare/bare.toml" --store "$tmp/bare/offmon.db" check \
  >"$tmp/bare-check.out" 2>"$tmp/bare-check.err") || true
[ ! -s "$tmp/bare-check.err" ] || fail "offmon check with the bare config complained: $(cat "$tmp/bare-check.err")"

if [ "$failures" -gt 0 ]; then
  echo "--- init output"; cat "$tmp/init.out"; echo "--- config"; cat "$config" 2>/dev/null || true
  echo "--- bare output"; cat "$tmp/bare.out"
  exit 1
fi
echo "init: sandbox config names every process and $(wc -l <<<"$channels") channels; bare host: two missing lines"
