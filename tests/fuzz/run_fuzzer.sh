#!/usr/bin/env bash
# ctest runs each libFuzzer target for FUZZ_SECONDS (default 10) on a copy of its seed
# corpus, so that what it adds never lands in the tree. A crash, leak or sanitizer report
# fails the test, and so does one input that runs for more than 25 s (libFuzzer's default
# is 20 minutes); the reproducer is kept as fuzz-<target>-crash-* (or -timeout-*) in the
# test's build directory.
# usage: run_fuzzer.sh FUZZER CORPUS_DIR
set -euo pipefail
fuzzer=$1 corpus=$2
name=$(basename "$fuzzer")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus/." "$work/"
log="$work/$name.log"
if ! "$fuzzer" -max_total_time="${FUZZ_SECONDS:-10}" -timeout=25 -print_final_stats=0 \
     -artifact_prefix="$PWD/fuzz-$name-" "$work" > "$log" 2>&1; then
  tail -40 "$log"
  echo "fuzzer $name found a failure; reproducer: $PWD/fuzz-$name-*" >&2
  exit 1
fi
echo "$name: $(grep -E "^Done|#[0-9]+.*DONE" "$log" | tail -1)"
