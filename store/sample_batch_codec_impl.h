// Encoding of a sample event's payload: the head of the store, before a checkpoint
// seals it into chunks. Samples are kept in the order they were added; consecutive
// samples with one timestamp (a collection cycle) share it. Format in
// docs/store-schema.md, "Sample batch encoding".
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "offmon/common/sample.h"
#include "offmon/common/status.h"
#include "varint_impl.h"

namespace offmon::store {

struct SeriesSample {
  int64_t series;
  Sample sample;
};

std::string EncodeSampleBatch(std::span<const SeriesSample> samples, int64_t base_ms);

namespace batch_internal {
// Value tags in the low two bits of a value's varint.
constexpr uint64_t kTagInteger = 0, kTagDouble = 1, kTagTenths = 2, kTagHundredths = 3;
}  // namespace batch_internal

// Calls sink(series_id, Sample) for each sample in order. Corruption on bad bytes
// (samples already passed to the sink stay passed).
template <typename Sink>
Status DecodeSampleBatch(std::string_view bytes, int64_t base_ms, Sink&& sink) {
  using namespace batch_internal;
  ByteReader in(bytes);
  int64_t t = base_ms;
  while (!in.done()) {
    uint64_t dt, n;
    if (!in.Varint(&dt) || !in.Varint(&n)) return Status::Corruption("sample batch: truncated group header");
    t = static_cast<int64_t>(static_cast<uint64_t>(t) + static_cast<uint64_t>(UnZigZag(dt)));
    int64_t id = 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t did, v;
      if (!in.Varint(&did) || !in.Varint(&v)) return Status::Corruption("sample batch: truncated sample");
      id = static_cast<int64_t>(static_cast<uint64_t>(id) + static_cast<uint64_t>(UnZigZag(did)));
      double value;
      switch (v & 3) {
        case kTagInteger: value = static_cast<double>(UnZigZag(v >> 2)); break;
        case kTagTenths: value = static_cast<double>(UnZigZag(v >> 2)) / 10.0; break;
        case kTagHundredths: value = static_cast<double>(UnZigZag(v >> 2)) / 100.0; break;
        default: {
          uint64_t bits;
          if (!in.Fixed64(&bits)) return Status::Corruption("sample batch: truncated value");
          value = std::bit_cast<double>(bits);
        }
      }
      sink(id, Sample{FromMillis(t), value});
    }
  }
  return Status::Ok();
}

}  // namespace offmon::store
