#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test. Exits
# non-zero on any failure. One build, with clang: AddressSanitizer + UndefinedBehaviorSanitizer,
# libFuzzer coverage instrumentation, warnings as errors, benchmarks included. Then
# ctest: unit, integration (real PostgreSQL, PM2, Prometheus, Alertmanager), the demo, the
# accuracy floors, benchmark smoke runs, and each fuzzer for FUZZ_SECONDS (default 10) on a
# copy of its corpus in tests/fuzz/corpus/.
# Where the time goes and why the build is set up this way: docs/build.md.
# Why clang: the fuzzers need it, so one clang build serves tests and fuzzers; with gcc
# the suite took a gcc ASan build (18.6 min on 2 cores) plus a clang fuzz build (~6 min),
# and clang compiles this code base faster. README command 1 builds the release binary
# with the system compiler (gcc).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc)
started=$SECONDS

step() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - started)); }

step "install, clang build: ASan + UBSan + libFuzzer instrumentation (-Werror)"
# -g1: line tables are all a sanitizer report needs, and they compile and link faster than -g.
# -O1: the sanitizers check the same; -O2 only cost compile time (test code is -O0 anyway).
# --cold-code-o0: store, analyzer, collector and common keep -O1; the rest compiles at -O0
# as unity files (docs/build.md).
tools/setup.sh --build-dir build-ci --type RelWithDebInfo --sanitize --werror --fuzz --cold-code-o0 \
  --cxx-flags-relwithdebinfo "-O1 -g1 -DNDEBUG"
step "tests (ASan + UBSan) and fuzzers"
# One CPU-bound test per core: two per core gained 5 % (the sanitized tests keep the cores
# busy) and starved the daemons the long tests watch. The tests labelled `waits` (the
# soak, which mostly waits for its faults to be seen) run beside them (docs/build.md).
printf '{"version":{"major":1,"minor":0},"local":[{"cores":[{"id":"0","slots":%d}]}]}\n' "$jobs" \
  > build-ci/ctest-cores.json
waiting=$(ctest --test-dir build-ci -N -L '^waits$' | sed -n 's/^Total Tests: //p')
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-ci --output-on-failure -j "$((jobs + waiting))" \
    --resource-spec-file "$here/build-ci/ctest-cores.json" --timeout 900

step "all tests passed"
