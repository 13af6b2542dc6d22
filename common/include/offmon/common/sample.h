// Sample: one observed value of one series at one instant.
#pragma once

#include <bit>
#include <cstdint>

#include "offmon/common/time.h"

namespace offmon {

struct Sample {
  TimePoint time;
  double value = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

// Prometheus' staleness marker: a NaN with these exact bits says "this series ended
// here" (an alert that resolved). Stored like any value; /metrics leaves such a sample
// out and remote write forwards it bit for bit.
inline constexpr uint64_t kStaleMarkerBits = 0x7ff0000000000002ULL;
inline double StaleMarker() { return std::bit_cast<double>(kStaleMarkerBits); }
inline bool IsStaleMarker(double value) { return std::bit_cast<uint64_t>(value) == kStaleMarkerBits; }

}  // namespace offmon
