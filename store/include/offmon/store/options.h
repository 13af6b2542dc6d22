// Options for opening a Store. Every field states its default and unit.
#pragma once

#include <chrono>
#include <filesystem>

#include "offmon/common/time.h"

namespace offmon::store {

struct RetentionOptions {
  // Raw samples (sealed chunks and the head) older than this are deleted. Default 30 d:
  // the analyzer's baselines look back two weeks, and a month covers a monthly review.
  Duration raw = std::chrono::days(30);
  // 5-minute rollups. Default 180 d.
  Duration rollup_5m = std::chrono::days(180);
  // 1-hour rollups. Default 800 d (two years and a bit, for year-over-year trends).
  Duration rollup_1h = std::chrono::days(800);
};

struct StoreOptions {
  std::filesystem::path path;
  // Open for reading only: nothing is created, migrated or written. Default false.
  bool read_only = false;
  // Create the file when missing (writers only). Default true.
  bool create_if_missing = true;
  // How long a statement waits for another connection's lock. Default 5 s.
  Duration busy_timeout = std::chrono::seconds(5);
  RetentionOptions retention;
  // Samples are sealed into one chunk per series per window of this length, aligned to
  // the unix epoch. Default 2 h, like Prometheus' head block. Must divide a day.
  Duration chunk_window = std::chrono::hours(2);
  // A window is sealed once the newest sample is this far past its end, so a late or
  // slow collector still lands in the head. Default 15 min.
  Duration seal_lag = std::chrono::minutes(15);
  // Upper bound on pages, for tests that need a full disk without filling one. 0: none.
  int64_t max_page_count = 0;
};

}  // namespace offmon::store
