// Time-bucketed reads for trends: picks the cheapest source that answers exactly, the
// 1-hour rollups, the 5-minute rollups or raw samples, by the step. And the one way
// buckets are folded together: sealing and rebuilding rollups, merging finer buckets,
// and the trend's statistics over buckets.
#pragma once

#include <cmath>

#include "offmon/store/store.h"

namespace offmon::store {

// Widens [*min, *max] to take in [lo, hi] (a sample: lo == hi). NaN never wins a
// comparison, so a NaN bound is replaced by the first number and never replaces one: a
// NaN sample does not poison a bucket's min or max.
inline void FoldMinMax(double lo, double hi, double* min, double* max) {
  if (lo < *min || std::isnan(*min)) *min = lo;
  if (hi > *max || std::isnan(*max)) *max = hi;
}

// Adds a sample to a bucket.
inline void FoldSample(double value, RollupBucket* into) {
  FoldMinMax(value, value, &into->min, &into->max);
  into->sum += value;
  ++into->count;
}

// Adds a bucket to a bucket (a coarser one, or the same one from another source).
inline void FoldBucket(const RollupBucket& from, RollupBucket* into) {
  FoldMinMax(from.min, from.max, &into->min, &into->max);
  into->sum += from.sum;
  into->count += from.count;
}

// Buckets of `step` aligned to multiples of step since the unix epoch, covering
// [from, to); empty buckets absent. InvalidArgument for a step below one second.
Result<std::vector<RollupBucket>> ReadBuckets(Store& store, SeriesId series, TimePoint from, TimePoint to,
                                              Duration step);

}  // namespace offmon::store
