#include "sample_batch_codec_impl.h"

namespace offmon::store {

namespace {

// Values that are integers, or tenths or hundredths that round-trip exactly, cost a
// varint instead of eight bytes: collectors mostly report byte counts, counts and
// percentages with one decimal.
void PutValue(std::string* out, double v) {
  using namespace batch_internal;
  constexpr double kLimit = 9007199254740992.0;  // 2^53
  if (std::isfinite(v) && std::fabs(v) < kLimit / 100 && !(v == 0 && std::signbit(v))) {
    const double scales[] = {1, 10, 100};
    const uint64_t tags[] = {kTagInteger, kTagTenths, kTagHundredths};
    for (int k = 0; k < 3; ++k) {
      double scaled = std::nearbyint(v * scales[k]);
      auto i = static_cast<int64_t>(scaled);
      double back = k == 0 ? static_cast<double>(i) : static_cast<double>(i) / scales[k];
      if (back == v) {
        PutVarint(out, (ZigZag(i) << 2) | tags[k]);
        return;
      }
    }
  }
  PutVarint(out, kTagDouble);
  PutFixed64(out, std::bit_cast<uint64_t>(v));
}

}  // namespace

std::string EncodeSampleBatch(std::span<const SeriesSample> samples, int64_t base_ms) {
  std::string out;
  out.reserve(samples.size() * 6 + 8);
  int64_t prev_t = base_ms;
  size_t i = 0;
  while (i < samples.size()) {
    int64_t t = ToMillis(samples[i].sample.time);
    size_t j = i;
    while (j < samples.size() && ToMillis(samples[j].sample.time) == t) ++j;
    PutVarint(&out, ZigZag(static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(prev_t))));
    PutVarint(&out, j - i);
    int64_t prev_id = 0;
    for (size_t k = i; k < j; ++k) {
      PutVarint(&out, ZigZag(samples[k].series - prev_id));
      prev_id = samples[k].series;
      PutValue(&out, samples[k].sample.value);
    }
    prev_t = t;
    i = j;
  }
  return out;
}

}  // namespace offmon::store
