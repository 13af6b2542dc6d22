#!/usr/bin/env bash
# The fleet deployment files (docs/fleet.md), checked with Prometheus' own tools:
#   1. deploy/prometheus/offmon-fleet.rules.yml passes `promtool check rules` and its
#      unit tests (tests/fleet/offmon-fleet.rules.test.yml: every rule firing and not);
#   2. deploy/grafana/offmon-fleet.json is well-formed JSON with the dashboard's shape,
#      reads each series docs/fleet.md says it shows, and every panel's PromQL
#      expression parses: each becomes a recording rule of a
#      throw-away rules file that `promtool check rules` parses, after Grafana's
#      variables are replaced by what Grafana would put there.
# promtool comes with Debian's prometheus package and jq with jq (tools/setup.sh
# installs both); a missing one fails the test, it is not skipped.
# Usage: fleet_test.sh SOURCE_DIR
set -euo pipefail

src=${1:?usage: fleet_test.sh SOURCE_DIR}
rules=$src/deploy/prometheus/offmon-fleet.rules.yml
dashboard=$src/deploy/grafana/offmon-fleet.json
for tool in promtool jq; do
  command -v "$tool" >/dev/null || { echo "fleet_test: $tool is missing (tools/setup.sh installs it)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

promtool check rules "$rules"
# promtool reads the test's rule_files relative to the test file.
(cd "$src/tests/fleet" && promtool test rules offmon-fleet.rules.test.yml)

jq -e '(.title | type == "string") and (.uid == "offmon-fleet") and (.panels | type == "array" and length > 0)
       and ([.templating.list[].name] | index("instance") != null)' "$dashboard" >/dev/null ||
  { echo "fleet_test: $dashboard is not a dashboard with title, uid, panels and the instance variable" >&2; exit 1; }
# Every panel but a row has at least one target, and every target an expression.
jq -e '[.panels[] | select(.type != "row") | (.targets // []) | length > 0 and all(.expr | type == "string" and length > 0)]
       | all' "$dashboard" >/dev/null ||
  { echo "fleet_test: a panel of $dashboard has no target or an empty expression" >&2; exit 1; }
# Panel ids and positions must not collide: Grafana drops or stacks duplicates.
jq -e '[.panels[].id] | length == (unique | length)' "$dashboard" >/dev/null ||
  { echo "fleet_test: $dashboard has duplicate panel ids" >&2; exit 1; }

# The board shows what docs/fleet.md promises: each of these series is in some panel.
for series in offmon_up offmon_last_cycle_timestamp_seconds offmon_alert process_up process_memory_bytes \
  epoch_participants offmon_remote_write_cursor_lag_seconds offmon_remote_write_pending_events \
  offmon_remote_write_samples_dropped_total; do
  jq -e --arg s "$series" '[.panels[].targets[]?.expr | test("\\b" + $s + "\\b")] | any' "$dashboard" >/dev/null ||
    { echo "fleet_test: no panel of $dashboard reads $series" >&2; exit 1; }
done

# Grafana's variables as Grafana expands them: $instance (All) is the regex .*, the
# interval variables durations.
to_rules() {
  jq -r '"groups:\n  - name: dashboard\n    rules:",
         (.panels[] | select(.type != "row") | .id as $id | .targets[] |
          "      - record: dashboard_panel_\($id)_\(.refId)\n        expr: \(.expr
            | gsub("\\$instance"; ".*") | gsub("\\$__rate_interval"; "5m") | gsub("\\$__interval"; "1m")
            | gsub("\\$__range"; "1h") | tojson)")' "$1"
}
to_rules "$dashboard" >"$work/dashboard.rules.yml"
count=$(grep -c 'record: dashboard_panel_' "$work/dashboard.rules.yml")
if ! promtool check rules "$work/dashboard.rules.yml"; then
  echo "fleet_test: an expression of $dashboard does not parse (above); the rules file it made:" >&2
  cat "$work/dashboard.rules.yml" >&2
  exit 1
fi

# The check catches a typo: the same dashboard with one expression broken must fail.
jq '(.panels[] | select(.type != "row") | .targets[0].expr) |= . + ")"' "$dashboard" >"$work/broken.json"
to_rules "$work/broken.json" >"$work/broken.rules.yml"
if promtool check rules "$work/broken.rules.yml" >/dev/null 2>&1; then
  echo "fleet_test: promtool accepted broken expressions: the dashboard check proves nothing" >&2
  exit 1
fi
echo "fleet_test: rules checked and unit-tested; dashboard well-formed, $count expressions parse"
