// Who is missing: facts about a channel's participant sets (CRoaring bitmaps of stable
// user ids, store::EpochRecord::bitmap) that turn a ParticipantDrop into an actionable
// alert line, e.g. "jasontheween: 1,020 participants vs baseline 3,150 (-68%); 71% of
// regulars absent". A drop with its regulars present points at fewer newcomers (a raid
// ended, a smaller audience); a drop with its regulars gone points at collection.
// Definitions and reasons are in docs/participant-baselines.md.
//
// Thread safety: pure functions; any number of threads may call them at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "offmon/analyzer/participant_baseline.h"
#include "offmon/common/result.h"
#include "offmon/common/time.h"
#include "offmon/store/store.h"

namespace offmon::analyzer {

struct InsightsOptions {
  // Regulars are the users present in at least half (rounded up) of the reference epochs:
  // the last `regular_epochs` epochs before the judged one that were sealed within
  // `regular_window` of it. Defaults 24 epochs and 7 days: a day or two of streaming, so a
  // regular is someone who is there most hours the channel is live, recently.
  size_t regular_epochs = 24;
  Duration regular_window = std::chrono::days(7);
  // With fewer reference epochs than this nobody is a regular (regulars = 0). Default 4.
  size_t min_regular_epochs = 4;
  // A participant of the judged epoch is returning when seen in the channel's epochs sealed
  // within this time before it, else new. Default 7 days.
  Duration returning_window = std::chrono::days(7);
};

struct ParticipantInsights {
  size_t regulars = 0;               // see InsightsOptions::regular_epochs
  size_t reference_epochs = 0;       // epochs the regulars were taken over
  double regulars_absent_share = 0;  // regulars not in the judged epoch / regulars; 0 if none
  uint64_t participants = 0;         // ids in the judged epoch's bitmap
  // Distinct users over the epochs sealed in (t - 24 h, t] and (t - 7 d, t], where t is the
  // judged epoch's sealed_at (the judged epoch included).
  uint64_t distinct_24h = 0, distinct_7d = 0;
  // new + returning = participants; see InsightsOptions::returning_window.
  uint64_t new_participants = 0, returning_participants = 0;
};

// Insights for the last epoch of `epochs`: one channel's sealed epochs sorted by
// sealed_at. Only the bitmaps inside the windows above are decoded. Errors: Corruption if
// one of those bitmaps does not decode as a CRoaring portable bitmap (an empty bitmap
// string included: the store always writes one); InvalidArgument if `epochs` is empty.
Result<ParticipantInsights> InsightsFor(std::span<const store::EpochRecord> epochs,
                                        const InsightsOptions& options = {});

// The alert line: "<channel>: 1,020 participants vs baseline 3,150 (-68%)", followed by
// "; 71% of regulars absent" when insights are given and the channel has regulars.
std::string DropSummary(std::string_view channel, const DropFinding& drop,
                        const std::optional<ParticipantInsights>& insights);

}  // namespace offmon::analyzer
