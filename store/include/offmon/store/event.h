// Events of the store's append-only log, as read back. Kinds and their payloads:
// offmon/common/event_kind.h and docs/store-schema.md.
#pragma once

#include <cstdint>
#include <string>

#include "offmon/common/event_kind.h"
#include "offmon/common/time.h"

namespace offmon::store {

using offmon::EventKind;

struct Event {
  int64_t seq = 0;
  TimePoint time;
  std::string source;
  EventKind kind = EventKind::kSamples;
  std::string payload;
};

}  // namespace offmon::store
