#!/usr/bin/env bash
# Store benchmark, full size, in one run: offmon's store against a plain
# one-row-per-sample SQLite table (bench/store_bench.cpp), and against Prometheus' TSDB
# on the identical data set (promtool tsdb create-blocks-from openmetrics). Prints the
# benchmark table, then a markdown summary of the ratios. Reports only: it does not
# fail on speed, only when something cannot be built or run.
#   tools/bench_store.sh
# Environment:
#   BUILD_DIR        build directory (default build/); configured Release, only the
#                    bench_store target is built
#   BENCH_SERIES, BENCH_STEPS   scale the data set (default 1000 x 8640, one day at 10 s)
#   BENCH_PROM_2H=1  also measure Prometheus with promtool's default 2 h blocks (slower:
#                    promtool re-reads the whole input once per block)
#   BENCH_WORK       scratch directory (default a fresh temp dir, removed at exit)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$here/build}
started=$SECONDS
step() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - started)); }

step "install what is missing (promtool comes with the prometheus package)"
"$here/tools/setup.sh" --install-only
step "release build of bench_store in $build_dir"
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target bench_store
bin="$build_dir/bench/bench_store"

if [ -n "${BENCH_WORK:-}" ]; then
  work=$BENCH_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/offmon-bench-store.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

step "benchmarks: offmon and the plain SQLite table"
# The stores go to the scratch dir, so the cleanup above removes them.
BENCH_DIR="$work/stores" "$bin" --benchmark_counters_tabular=true \
  --benchmark_out="$work/bench.json" --benchmark_out_format=json
rm -rf "$work/stores"

step "Prometheus TSDB on the same data set"
"$bin" --write-openmetrics "$work/data.om"
# Sums the samples and du -sb of the blocks promtool wrote. Arguments: output dir, then
# extra promtool flags. Prints "<bytes> <samples> <blocks>".
prom_blocks() {
  local out=$1; shift
  rm -rf "$out"
  promtool tsdb create-blocks-from openmetrics "$@" "$work/data.om" "$out" > "$out.log"
  local samples blocks
  # Block lines: ULID MINT MAXT DURATION SAMPLES CHUNKS SERIES SIZE.
  # (mawk has no {n} intervals, hence the length test.)
  samples=$(awk 'length($1) == 26 && $1 ~ /^[0-9A-Z]+$/ { s += $5 } END { print s + 0 }' "$out.log")
  blocks=$(awk 'length($1) == 26 && $1 ~ /^[0-9A-Z]+$/ { n++ } END { print n + 0 }' "$out.log")
  echo "$(du -sb "$out" | cut -f1) $samples $blocks"
}
prom_bps="n/a"; prom2h_bps="n/a"
if command -v promtool >/dev/null; then
  # A running Prometheus compacts its 2 h blocks into longer ones; one block over the
  # whole range is that steady state. --max-block-duration is hidden in promtool 2.42;
  # 168h is the smallest setting whose block range (162 h, aligned to the epoch) holds
  # this day in one block.
  if read -r bytes samples blocks < <(prom_blocks "$work/prom" --max-block-duration=168h); then
    prom_bps=$(awk -v b="$bytes" -v s="$samples" 'BEGIN { printf "%.3f", s ? b / s : 0 }')
    echo "promtool, one block range: $blocks block(s), $bytes bytes, $samples samples: $prom_bps bytes/sample"
  else
    echo "promtool failed:"; cat "$work/prom.log" || true
  fi
  rm -rf "$work/prom"
  if [ "${BENCH_PROM_2H:-0}" = 1 ]; then
    if read -r bytes samples blocks < <(prom_blocks "$work/prom2h"); then
      prom2h_bps=$(awk -v b="$bytes" -v s="$samples" 'BEGIN { printf "%.3f", s ? b / s : 0 }')
      echo "promtool, default 2 h blocks: $blocks block(s), $bytes bytes, $samples samples: $prom2h_bps bytes/sample"
    fi
    rm -rf "$work/prom2h"
  fi
else
  echo "promtool not found: install the prometheus package for the TSDB comparison"
fi
rm -f "$work/data.om"

step "summary"
# Google Benchmark's JSON has one "key": value per line. Prints the value of `key` of
# the first benchmark whose name starts with `name`, or nothing.
field() {
  awk -v want="$1" -v key="\"$2\":" '
    $1 == "\"name\":" { name = $2; gsub(/[",]/, "", name); inside = index(name, want) == 1 }
    inside && $1 == key { v = $2; gsub(/[",]/, "", v); print v; exit }
  ' "$work/bench.json"
}
# Samples per CPU second: the rate recomputed on CPU time, which other load on the
# machine disturbs less than wall time.
cpu_rate() {
  local rate real cpu
  rate=$(field "$1" samples_per_s); real=$(field "$1" real_time); cpu=$(field "$1" cpu_time)
  awk -v r="$rate" -v w="$real" -v c="$cpu" 'BEGIN { if (r == "" || c == 0) print ""; else printf "%.6g", r * w / c }'
}
awk -v off_app="$(field BM_Append/offmon samples_per_s)" -v pl_app="$(field BM_Append/plain samples_per_s)" \
    -v off_app_cpu="$(cpu_rate BM_Append/offmon)" -v pl_app_cpu="$(cpu_rate BM_Append/plain)" \
    -v off_bps="$(field BM_Append/offmon bytes_per_sample)" \
    -v off_bps_w="$(field BM_Append/offmon bytes_per_sample_as_written)" \
    -v head="$(field BM_Append/offmon head_fraction)" \
    -v pl_bps="$(field BM_Append/plain bytes_per_sample)" -v prom="$prom_bps" -v prom2h="$prom2h_bps" \
    -v off_one="$(field BM_ScanOneSeries/offmon samples_per_s)" -v pl_one="$(field BM_ScanOneSeries/plain samples_per_s)" \
    -v off_one_cpu="$(cpu_rate BM_ScanOneSeries/offmon)" -v pl_one_cpu="$(cpu_rate BM_ScanOneSeries/plain)" \
    -v off_all="$(field BM_ScanAllSeries/offmon samples_per_s)" -v pl_all="$(field BM_ScanAllSeries/plain samples_per_s)" \
    -v off_all_cpu="$(cpu_rate BM_ScanAllSeries/offmon)" -v pl_all_cpu="$(cpu_rate BM_ScanAllSeries/plain)" \
    -v trend="$(field BM_Trend30d real_time)" -v trend_unit="$(field BM_Trend30d time_unit)" '
function num(x) { return x != "" && x != "n/a" }
function rate(x) {
  if (!num(x)) return "n/a"
  if (x >= 1e6) return sprintf("%.2fM/s", x / 1e6)
  if (x >= 1e3) return sprintf("%.1fk/s", x / 1e3)
  return sprintf("%.0f/s", x)
}
function bytes(x) { return num(x) ? sprintf("%.3f", x) : "n/a" }
function ratio(a, b) { return num(a) && num(b) && b > 0 ? sprintf("%.2fx", a / b) : "n/a" }
function yes(ok) { return ok ? "yes" : "**no**" }
function row(what, a, b, r, rcpu, target, met) {
  printf "| %s | %s | %s | %s | %s | %s | %s |\n", what, a, b, r, rcpu, target, met
}
BEGIN {
  print ""
  print "| measure | offmon | reference | ratio (wall) | ratio (CPU) | target | met |"
  print "|---|---|---|---|---|---|---|"
  row("append, samples/s (ref: plain table)", rate(off_app), rate(pl_app), ratio(off_app, pl_app),
      ratio(off_app_cpu, pl_app_cpu), ">= 10x and >= 1M/s",
      num(off_app) && num(pl_app) ? yes(off_app >= 10 * pl_app && off_app >= 1e6) : "n/a")
  row("bytes/sample, store file after WAL checkpoint (ref: Prometheus blocks)", bytes(off_bps), bytes(prom),
      ratio(off_bps, prom), "", "<= 1x", num(off_bps) && num(prom) ? yes(off_bps <= prom) : "n/a")
  row("bytes/sample, store file as written, WAL included (ref: Prometheus blocks)", bytes(off_bps_w), bytes(prom),
      ratio(off_bps_w, prom), "", "", "")
  if (num(prom2h)) row("bytes/sample (ref: Prometheus, default 2 h blocks)", bytes(off_bps), bytes(prom2h), ratio(off_bps, prom2h), "", "", "")
  row("bytes/sample (ref: plain table after WAL checkpoint)", bytes(off_bps), bytes(pl_bps), ratio(off_bps, pl_bps), "", "", "")
  row("scan one series, samples/s (ref: plain table)", rate(off_one), rate(pl_one), ratio(off_one, pl_one),
      ratio(off_one_cpu, pl_one_cpu), ">= 10x", num(off_one) && num(pl_one) ? yes(off_one >= 10 * pl_one) : "n/a")
  row("scan all series, samples/s (ref: plain table)", rate(off_all), rate(pl_all), ratio(off_all, pl_all),
      ratio(off_all_cpu, pl_all_cpu), ">= 10x", num(off_all) && num(pl_all) ? yes(off_all >= 10 * pl_all) : "n/a")
  row("30-day trend, 1 h buckets, per query", num(trend) ? sprintf("%.3f %s", trend, trend_unit) : "n/a", "", "", "",
      "< 10 ms", num(trend) ? yes((trend_unit == "ms" ? trend : trend_unit == "us" ? trend / 1e3 : trend * 1e3) < 10) : "n/a")
  print ""
  if (num(head)) printf "offmon head (unsealed last window) at the end: %.1f%% of samples.\n", 100 * head
}'
printf '\nbench_store.sh took %ds\n' $((SECONDS - started))
