// Events of the store's append-only log. Each kind has a typed payload; sample batches
// are binary (docs/store-schema.md, "Sample batch encoding"), every other kind is JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "offmon/common/time.h"

namespace offmon::store {

// Stored as integers: never renumber, only add.
enum class EventKind : int {
  kSeriesDefined = 1,  // {"id": 7, "series": "name{...}"}
  kSamples = 2,        // binary sample batch within one chunk window
  kImport = 3,         // {"file": ..., "format": ..., "rows": ..., "skipped": ...}
  kCheckpoint = 4,     // {"windows": n, "events": n, "samples": n, "through": ms}
  kRetention = 5,      // {"raw_before": ms, "rollup_5m_before": ms, "rollup_1h_before": ms}
  kCollectorFailure = 6,
};

std::string_view EventKindName(EventKind kind);
std::optional<EventKind> EventKindFromName(std::string_view name);

struct Event {
  int64_t seq = 0;
  TimePoint time;
  std::string source;
  EventKind kind = EventKind::kSamples;
  std::string payload;
};

}  // namespace offmon::store
