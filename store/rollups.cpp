// Rollup rows: their layouts and checksums, writing them from samples (checkpoint,
// rebuild) and verifying them as they are read.
#include "sqlite_store_impl.h"

#include <algorithm>

#include <fmt/format.h>

#include "rollup_codec_impl.h"

namespace offmon::store {

Duration StepDuration(RollupStep step) { return Duration(LayoutFor(step).step_ms); }

int64_t RollupChecksum(SeriesId series, int64_t step_s, int64_t window_start, std::string_view data) {
  return RowChecksum({series, step_s, window_start}, data);
}

int64_t RollupRowMs(int64_t step_s) {
  return step_s * 1000 == kLayouts[0].step_ms ? kLayouts[0].row_ms : kLayouts[1].row_ms;
}

std::string RollupWhat(int64_t step_s) {
  return step_s * 1000 == kLayouts[0].step_ms ? "the 5m rollup" : "the 1h rollup";
}

Status SqliteStore::WriteRollups(SeriesId series, std::span<const Sample> samples, int64_t from, int64_t to) {
  for (const RollupLayout& layout : kLayouts) {
    std::vector<RollupBucket> fresh = ComputeBuckets(samples, layout.step_ms);
    for (int64_t row = FloorTo(from, layout.row_ms); row < to; row += layout.row_ms) {
      const int64_t step_s = layout.step_ms / 1000;
      auto get = db_->Cached("SELECT data, crc FROM rollups WHERE series_id = ? AND step_s = ? AND window_start_ms = ?");
      if (!get) return get.error();
      (*get)->Bind(1, series).Bind(2, step_s).Bind(3, row);
      std::vector<RollupBucket> buckets;
      Status status;
      if ((*get)->Step(&status)) {
        status = VerifiedRollup(series, step_s, row, (*get)->Blob(0), (*get)->Int(1), &buckets);
      }
      (*get)->Reset();
      OFFMON_RETURN_IF_ERROR(status);
      // Keep buckets outside the rewritten range, take the fresh ones inside it.
      const int64_t lo = std::max(from, row), hi = std::min(to, row + layout.row_ms);
      std::erase_if(buckets, [&](const RollupBucket& b) {
        return ToMillis(b.start) >= lo && ToMillis(b.start) < hi;
      });
      for (const RollupBucket& b : fresh) {
        if (ToMillis(b.start) >= lo && ToMillis(b.start) < hi) buckets.push_back(b);
      }
      std::sort(buckets.begin(), buckets.end(),
                [](const RollupBucket& a, const RollupBucket& b) { return a.start < b.start; });
      if (buckets.empty()) continue;
      auto put = db_->Cached(
          "INSERT INTO rollups(series_id, step_s, window_start_ms, data, crc) VALUES (?, ?, ?, ?, ?)"
          " ON CONFLICT(series_id, step_s, window_start_ms) DO UPDATE SET data = excluded.data, crc = excluded.crc");
      if (!put) return put.error();
      const std::string data = EncodeRollups(buckets);
      (*put)->Bind(1, series).Bind(2, step_s).Bind(3, row).BindBlob(4, data)
          .Bind(5, RollupChecksum(series, step_s, row, data));
      OFFMON_RETURN_IF_ERROR((*put)->Run());
    }
  }
  return Status::Ok();
}

Status SqliteStore::VerifiedRollup(SeriesId series, int64_t step_s, int64_t window_start, std::string_view data,
                                   int64_t crc, std::vector<RollupBucket>* out) const {
  const std::string what = RollupWhat(step_s);
  if (RollupChecksum(series, step_s, window_start, data) != crc) {
    return ChecksumMismatch(what, series, window_start, window_start + RollupRowMs(step_s));
  }
  return DecodeRollups(data, out).WithContext(fmt::format("{} of series {} at {}", what, series,
                                                          FormatRfc3339(FromMillis(window_start))));
}

}  // namespace offmon::store
