// Observations richer than a sample, which collectors hand to their sink.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "offmon/common/time.h"

namespace offmon {

// One sealed epoch of one channel as read from the pipeline's database.
struct EpochObservation {
  std::string channel;
  int64_t epoch = 0;  // the hour's start, unix seconds (the pipeline's key)
  TimePoint sealed_at;
  bool published = false;
  std::optional<TimePoint> published_at;
  std::string root;         // hex Merkle root
  std::string token_group;  // empty when the deployment's schema has no such column
  std::string category;
  // user_hash values of sealed_participants in idx order; the store maps them to stable
  // 32-bit ids and keeps the set as a compressed bitmap.
  std::vector<std::string> participants;
  // False for a count-only observation (history backfilled from the database, or an
  // epoch whose set is read in a later cycle): `participants` is empty and
  // `participant_count` holds the count. True: the count is participants.size().
  bool has_participant_set = true;
  int64_t participant_count = 0;

  int64_t count() const {
    return has_participant_set ? static_cast<int64_t>(participants.size()) : participant_count;
  }
};

}  // namespace offmon
