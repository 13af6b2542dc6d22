// offmon's own collectors: whether what the store holds has caught up with its source.
#include <fmt/format.h>

#include "offmon/common/metric_names.h"
#include "rules_impl.h"

namespace offmon::analyzer {

// The PostgreSQL collector's backfill (db_backfill_done 0) has not reached its horizon:
// baselines and drop detection judge on partial history. At the default interval a
// 30-day backfill takes about 15 cycles, so `for` (1 h) only catches one that is stuck
// (a statement timeout on every slice, a database too slow for its slices).
Status CollectorBehindRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  return ThresholdRule(
      ctx, rule, "CollectorBehind", metric::kDbBackfillDone, /*above=*/false,
      [&](const store::SeriesInfo&, double) {
        return fmt::format("the PostgreSQL collector's backfill has not reached [postgres] backfill for {}: "
                           "baselines and drops are judged on partial history (offmon store info)",
                           FormatDurationShort(rule.for_duration));
      },
      out);
}

}  // namespace offmon::analyzer
