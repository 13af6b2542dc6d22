#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test. Exits
# non-zero on any failure. Steps:
#   1. AddressSanitizer + UndefinedBehaviorSanitizer build (optimised as RelWithDebInfo,
#      warnings as errors, benchmarks included); ctest: unit, integration (real
#      PostgreSQL, PM2), the demo, the accuracy floors, benchmark smoke runs
#   2. libFuzzer build (clang); each fuzzer runs FUZZ_SECONDS (default 10) on a copy of
#      its corpus in tests/fuzz/corpus/
# A separate release build would compile everything a third time to run the same tests
# with less checking (RelWithDebInfo is -O2 with NDEBUG, like Release); README command 1
# builds the release binary people run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-10}
started=$SECONDS

step() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - started)); }

step "install, AddressSanitizer + UndefinedBehaviorSanitizer build (-Werror)"
# -g1: line tables are all a sanitizer report needs, and they compile and link faster than -g.
tools/setup.sh --build-dir build-asan --type RelWithDebInfo --sanitize --werror \
  --cxx-flags-relwithdebinfo "-O2 -g1 -DNDEBUG"
step "tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900

step "libFuzzer targets (clang)"
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOFFMON_FUZZ=ON -DOFFMON_WERROR=ON \
  -DOFFMON_BENCH=OFF -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
fuzzers=$(ls tests/fuzz/corpus)
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$jobs" --target $fuzzers
for f in $fuzzers; do
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$f/." "$work/"
  echo "fuzzing $f for ${fuzz_seconds}s"
  if ! "build-fuzz/tests/fuzz/$f" -max_total_time="$fuzz_seconds" -print_final_stats=0 "$work" \
      > "build-fuzz/$f.log" 2>&1; then
    tail -40 "build-fuzz/$f.log"
    echo "fuzzer $f found a failure (log: build-fuzz/$f.log)" >&2
    exit 1
  fi
  grep -E "^Done|#[0-9]+.*DONE" "build-fuzz/$f.log" | tail -1 || true
  rm -rf "$work"
done

step "all tests passed"
