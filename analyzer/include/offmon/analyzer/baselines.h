// Baselines as series, so the report, `offmon trend` and receivers can say "baseline
// 2,150 ±180" without recomputing: per channel (participants per epoch) and per process
// (memory, CPU), each a robust, seasonal median and spread (participant_baseline.h).
//
// Written, one sample each per recording, labels copied from the source series:
//   baseline_participants_median{channel}, baseline_participants_spread{channel}
//     from epoch_participants over the ParticipantDrop rule's baseline_window (14 d)
//   baseline_process_memory_bytes_median{process}, ..._spread
//   baseline_process_cpu_percent_median{process}, ..._spread
//     from process_memory_bytes / process_cpu_percent over the last 7 days
//
// Thread safety: one thread; uses the store from the caller's thread.
#pragma once

#include "offmon/common/config.h"
#include "offmon/common/status.h"
#include "offmon/common/time.h"
#include "offmon/store/store.h"

namespace offmon::analyzer {

// How far back a process's memory and CPU baselines look.
inline constexpr Duration kProcessBaselineWindow = std::chrono::days(7);

// Computes every baseline at `now` and appends it to the store in one batch. Sources
// with too little history for a baseline (participant_baseline.h: min_epochs) get none.
Status RecordBaselines(store::Store& store, const Config& config, TimePoint now);

}  // namespace offmon::analyzer
