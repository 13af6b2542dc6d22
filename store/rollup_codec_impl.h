// Rollup buckets of one series over one row window, stored as four chunk-encoded
// streams (min, max, sum, count) sharing bucket start times. Computing buckets from
// samples lives here too, so sealing and rebuilding compute them identically.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/store/store.h"

namespace offmon::store {

std::string EncodeRollups(std::span<const RollupBucket> buckets);
Status DecodeRollups(std::string_view bytes, std::vector<RollupBucket>* out);

// Buckets of `step_ms` over time-sorted samples, summed in time order.
std::vector<RollupBucket> ComputeBuckets(std::span<const Sample> samples, int64_t step_ms);

}  // namespace offmon::store
