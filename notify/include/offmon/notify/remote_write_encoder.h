// The body of a Prometheus remote-write 1.0 request: a protobuf prometheus.WriteRequest
// compressed with snappy's block format (not its framed format), as the protocol says.
// Pure functions over values; no I/O. Thread safety: none needed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "offmon/common/result.h"
#include "offmon/common/sample.h"
#include "offmon/common/series_key.h"

namespace offmon::notify {

// One series of a request: its metric name, its labels (any order; external labels
// already merged in) and its samples in time order.
struct RemoteWriteSeries {
  std::string name;
  Labels labels;
  std::vector<Sample> samples;
};

// The compressed WriteRequest for `series`: each series' labels are `__name__` plus its
// labels sorted by name, as the protocol requires; values are sent bit for bit (so a
// staleness marker stays one).
std::string EncodeWriteRequest(const std::vector<RemoteWriteSeries>& series);

// Decodes a body built by EncodeWriteRequest (tests, the benchmark's receiver).
// InvalidArgument when it is not snappy or not a WriteRequest.
Result<std::vector<RemoteWriteSeries>> DecodeWriteRequest(std::string_view body);

}  // namespace offmon::notify
