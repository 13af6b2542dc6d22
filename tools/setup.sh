#!/usr/bin/env bash
# Installs what offmon needs from Debian 12 packages (only what is missing) and builds
# build/offmon. Idempotent: a second run installs nothing and rebuilds incrementally.
#   tools/setup.sh [--build-dir DIR] [--type Release|Debug] [--sanitize] [--werror] [--no-bench]
#                  [--fuzz] [--cold-code-o0] [--cxx-flags-relwithdebinfo FLAGS] [--target NAME]
# --fuzz builds with clang and adds the libFuzzer targets (tests/fuzz/).
# --cold-code-o0 compiles the modules off the hot path at -O0 (the CI build; docs/build.md).
# --target builds only that target (tools/demo.sh: --target offmon, no tests or benchmarks).
# Sources compile as unity files of eight (OFFMON_UNITY; docs/build.md): a build from
# scratch takes half the time.
# A new build directory uses Ninja and links with lld (both installed here); an existing
# one keeps the generator it was configured with.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$here/build"; build_type=Release; sanitize=OFF; werror=OFF; install_only=0; bench=ON; fuzz=OFF; cold_o0=OFF
rwdi_flags=(); target=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --type) build_type=$2; shift 2 ;;
    --sanitize) sanitize=ON; shift ;;
    --werror) werror=ON; shift ;;
    --install-only) install_only=1; shift ;;
    --no-bench) bench=OFF; shift ;;
    --fuzz) fuzz=ON; shift ;;
    --cold-code-o0) cold_o0=ON; shift ;;
    --cxx-flags-relwithdebinfo) rwdi_flags=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$2"); shift 2 ;;
    --target) target=(--target "$2"); shift 2 ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build lld pkg-config git clang libclang-rt-14-dev
  libsqlite3-dev sqlite3 zlib1g-dev libpqxx-dev libpq-dev libboost-dev libroaring-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libtomlplusplus-dev libspdlog-dev
  libssl-dev openssl ca-certificates
  libprotobuf-dev protobuf-compiler libsnappy-dev
  postgresql prometheus prometheus-alertmanager faketime jq
  chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$here/tools/install_node_deps.sh"
[ "$install_only" -eq 1 ] && exit 0

compiler=()
[ "$fuzz" = ON ] && compiler=(-DCMAKE_CXX_COMPILER=clang++)
generator=()
[ -f "$build_dir/CMakeCache.txt" ] || generator=(-G Ninja)
cmake -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="$build_type" "${compiler[@]}" \
  -DOFFMON_FUZZ="$fuzz" -DOFFMON_SANITIZE="$sanitize" -DOFFMON_WERROR="$werror" -DOFFMON_BENCH="$bench" \
  -DOFFMON_COLD_CODE_O0="$cold_o0" -DOFFMON_UNITY=ON \
  "${rwdi_flags[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" "${target[@]}"
