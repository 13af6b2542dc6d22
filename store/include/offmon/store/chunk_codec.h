// Chunk codec: pure encoding of a time-ordered run of one series' samples into bytes,
// no I/O. Timestamps are delta-of-delta coded (a sample on the sampling grid costs one
// bit); values are coded integer-aware: a chunk whose values are all integers after
// scaling by 10^k (k = 0..3, checked to round-trip exactly) stores those integers with
// delta or delta-of-delta coding, whichever is smaller; any other chunk uses Gorilla XOR
// (or, if every value has the same bits, stores it once).
// Decoding reproduces every double bit for bit (NaN payloads included).
// Format: docs/chunk-encoding.md. Thread safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/common/sample.h"
#include "offmon/common/status.h"

namespace offmon::store {

// Encodes `samples`, which must be sorted by strictly increasing time (asserted).
// An empty span encodes to a valid empty chunk.
std::string EncodeChunk(std::span<const Sample> samples);

// Appends the decoded samples to `out`. Corruption (and `out` unchanged) on bytes that
// do not form a valid chunk; never reads out of bounds or crashes on arbitrary input.
Status DecodeChunk(std::string_view bytes, std::vector<Sample>* out);

}  // namespace offmon::store
