#include "offmon/store/buckets.h"

#include <cmath>

#include "rollup_codec_impl.h"
#include "varint_impl.h"

namespace offmon::store {

Result<std::vector<RollupBucket>> ReadBuckets(Store& store, SeriesId series, TimePoint from, TimePoint to,
                                              Duration step) {
  if (step < std::chrono::seconds(1)) return Status::InvalidArgument("step must be at least 1s");
  const int64_t step_ms = step.count();
  const TimePoint aligned_from = FromMillis(FloorTo(ToMillis(from), step_ms));
  std::vector<RollupBucket> fine;
  if (step_ms % StepDuration(RollupStep::k1h).count() == 0 || step_ms % StepDuration(RollupStep::k5m).count() == 0) {
    RollupStep source = step_ms % StepDuration(RollupStep::k1h).count() == 0 ? RollupStep::k1h : RollupStep::k5m;
    auto rollup = store.ReadRollup(series, source, aligned_from, to);
    if (!rollup) return rollup.error();
    fine = std::move(*rollup);
  } else {
    auto raw = store.ReadRange(series, aligned_from, to);
    if (!raw) return raw.error();
    return ComputeBuckets(*raw, step_ms);
  }
  // Merge the finer buckets into buckets of `step`.
  std::vector<RollupBucket> out;
  for (const RollupBucket& b : fine) {
    TimePoint start = FromMillis(FloorTo(ToMillis(b.start), step_ms));
    if (out.empty() || out.back().start != start) {
      out.push_back(RollupBucket{start, b.min, b.max, 0, 0});
    }
    FoldBucket(b, &out.back());
  }
  return out;
}

}  // namespace offmon::store
