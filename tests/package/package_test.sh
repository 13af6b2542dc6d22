#!/usr/bin/env bash
# ctest `package` (label package): the Debian package of this build directory, built with
# CPack from the binary already built there (the CI build's, so no release build is
# needed), installed into the real system with dpkg and removed again:
#   - offmon_<version>_amd64.deb holds the binary, the systemd unit, the example config
#     and the docs;
#   - `dpkg -i` installs them, creates the `offmon` user, and `offmon --version` runs;
#   - the unit passes `systemd-analyze verify` (when the tool exists); under systemd (PID
#     1) the service starts with a minimal config and stops; without it, that is said;
#   - `dpkg -r` removes every file it installed and leaves no package state.
# Needs root (or password-less sudo) and dpkg; refuses to touch an offmon package that is
# already installed. A missing tool is a failure, not a skip.
#   tests/package/package_test.sh BUILD_DIR
set -euo pipefail
build=$(realpath -- "${1:?usage: package_test.sh BUILD_DIR}")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/offmon-package-test.XXXXXX")
sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo -n)
installed=0
cleanup() {
  if [ "$installed" -eq 1 ]; then "${sudo_cmd[@]}" dpkg -r offmon >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }

command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
"${sudo_cmd[@]}" true 2>/dev/null || die "needs root or password-less sudo to run dpkg -i"
if dpkg-query -W -f='${Status}' offmon 2>/dev/null | grep -q installed; then
  die "an offmon package is already installed here; not touching it"
fi

(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log"; die "cpack failed"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
deb="$tmp/offmon_${version}_amd64.deb"
[ -f "$deb" ] || die "no $deb (built: $(ls "$tmp"/*.deb 2>/dev/null))"
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/bin/offmon /usr/lib/systemd/system/offmon.service /usr/share/doc/offmon/examples/offmon.toml \
    /usr/share/doc/offmon/operations.md /usr/share/doc/offmon/README.md /usr/share/doc/offmon/configuration.md; do
  grep -qx "$f" <<<"$contents" || fail "the package lacks $f"
done
grep -q '^/etc' <<<"$contents" && fail "the package ships files in /etc (dpkg -r would leave them)"

"${sudo_cmd[@]}" dpkg -i "$deb" >"$tmp/dpkg-i.log" 2>&1 || { cat "$tmp/dpkg-i.log"; die "dpkg -i failed"; }
installed=1
files=$(grep -v '/$' <<<"$contents" | grep -v '^$')
while read -r f; do
  [ -d "$f" ] && continue
  [ -e "$f" ] || fail "installed package lacks $f"
done <<<"$files"
got=$(/usr/bin/offmon --version 2>&1) || fail "offmon --version failed: $got"
[ "$got" = "offmon $version" ] || fail "offmon --version printed '$got', expected 'offmon $version'"
grep -q '^ExecStart=/usr/bin/offmon ' /usr/lib/systemd/system/offmon.service ||
  fail "the packaged unit does not run /usr/bin/offmon"
getent passwd offmon >/dev/null || fail "postinst did not create the offmon user"
/usr/bin/offmon config check /usr/share/doc/offmon/examples/offmon.toml >/dev/null ||
  fail "the packaged example config does not pass offmon config check"

if command -v systemd-analyze >/dev/null; then
  verify=$(systemd-analyze verify /usr/lib/systemd/system/offmon.service 2>&1) ||
    fail "systemd-analyze verify offmon.service: $verify"
  echo "systemd-analyze verify: ok${verify:+ ($verify)}"
else
  fail "systemd-analyze not found (package systemd)"
fi
if [ -d /run/systemd/system ]; then
  "${sudo_cmd[@]}" install -d -m 0750 /etc/offmon
  printf '[pm2]\nenabled = false\n[postgres]\nenabled = false\n[http]\nlisten = ""\n' |
    "${sudo_cmd[@]}" tee /etc/offmon/offmon.toml >/dev/null
  "${sudo_cmd[@]}" systemctl start offmon.service || fail "systemctl start offmon failed"
  for _ in $(seq 50); do systemctl is-active --quiet offmon.service && break; sleep 0.2; done
  systemctl is-active --quiet offmon.service || fail "offmon.service is not active after start"
  "${sudo_cmd[@]}" systemctl stop offmon.service || fail "systemctl stop offmon failed"
  "${sudo_cmd[@]}" rm -rf /etc/offmon
  echo "systemd: offmon.service started and stopped"
else
  echo "systemd: not running as PID 1 here; start not tested (docs/operations.md says how)"
fi

"${sudo_cmd[@]}" dpkg -r offmon >"$tmp/dpkg-r.log" 2>&1 || { cat "$tmp/dpkg-r.log"; fail "dpkg -r failed"; }
installed=0
while read -r f; do
  [ -e "$f" ] && [ ! -d "$f" ] && fail "dpkg -r left $f"
done <<<"$files"
for d in /usr/share/doc/offmon; do [ -e "$d" ] && fail "dpkg -r left $d"; done
state=$(dpkg-query -W -f='${Status}' offmon 2>/dev/null || true)
case "$state" in ""|"unknown ok not-installed"|*" not-installed") ;; *) fail "package state after dpkg -r: $state" ;; esac

[ "$failures" -eq 0 ] || exit 1
echo "package: built, installed, ran, removed cleanly"
