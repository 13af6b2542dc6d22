// Time-bucketed reads for trends: picks the cheapest source that answers exactly, the
// 1-hour rollups, the 5-minute rollups or raw samples, by the step.
#pragma once

#include "offmon/store/store.h"

namespace offmon::store {

// Buckets of `step` aligned to multiples of step since the unix epoch, covering
// [from, to); empty buckets absent. InvalidArgument for a step below one second.
Result<std::vector<RollupBucket>> ReadBuckets(Store& store, SeriesId series, TimePoint from, TimePoint to,
                                              Duration step);

}  // namespace offmon::store
