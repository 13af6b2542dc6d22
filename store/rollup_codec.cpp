#include "rollup_codec_impl.h"

#include "offmon/store/buckets.h"
#include "offmon/store/chunk_codec.h"
#include "varint_impl.h"

namespace offmon::store {

std::string EncodeRollups(std::span<const RollupBucket> buckets) {
  std::vector<Sample> stream(buckets.size());
  std::string out;
  auto put_stream = [&](auto field) {
    for (size_t i = 0; i < buckets.size(); ++i) stream[i] = Sample{buckets[i].start, field(buckets[i])};
    std::string chunk = EncodeChunk(stream);
    PutVarint(&out, chunk.size());
    out += chunk;
  };
  put_stream([](const RollupBucket& b) { return b.min; });
  put_stream([](const RollupBucket& b) { return b.max; });
  put_stream([](const RollupBucket& b) { return b.sum; });
  put_stream([](const RollupBucket& b) { return static_cast<double>(b.count); });
  return out;
}

Status DecodeRollups(std::string_view bytes, std::vector<RollupBucket>* out) {
  ByteReader in(bytes);
  std::vector<Sample> streams[4];
  for (auto& stream : streams) {
    uint64_t size;
    std::string_view chunk;
    if (!in.Varint(&size) || !in.Bytes(size, &chunk)) return Status::Corruption("rollup row: truncated");
    OFFMON_RETURN_IF_ERROR(DecodeChunk(chunk, &stream).WithContext("rollup row"));
  }
  const size_t n = streams[0].size();
  for (const auto& stream : streams) {
    if (stream.size() != n) return Status::Corruption("rollup row: streams differ in length");
  }
  out->reserve(out->size() + n);
  for (size_t i = 0; i < n; ++i) {
    if (streams[1][i].time != streams[0][i].time || streams[2][i].time != streams[0][i].time ||
        streams[3][i].time != streams[0][i].time) {
      return Status::Corruption("rollup row: streams disagree on bucket times");
    }
    out->push_back(RollupBucket{streams[0][i].time, streams[0][i].value, streams[1][i].value,
                                streams[2][i].value, static_cast<int64_t>(streams[3][i].value)});
  }
  return Status::Ok();
}

std::vector<RollupBucket> ComputeBuckets(std::span<const Sample> samples, int64_t step_ms) {
  std::vector<RollupBucket> buckets;
  for (const Sample& s : samples) {
    TimePoint start = FromMillis(FloorTo(ToMillis(s.time), step_ms));
    if (buckets.empty() || buckets.back().start != start) {
      buckets.push_back(RollupBucket{start, s.value, s.value, 0, 0});
    }
    FoldSample(s.value, &buckets.back());
  }
  return buckets;
}

}  // namespace offmon::store
