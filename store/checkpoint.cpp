// Checkpoint: seals complete windows of head sample events into one chunk per series
// and its rollups, then deletes those events, in one transaction (a WAL checkpoint).
#include "sqlite_store_impl.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "offmon/store/chunk_codec.h"

namespace offmon::store {

Status SqliteStore::MaybeCheckpoint() {
  if (!oldest_head_window_) return Status::Ok();
  int64_t cutoff = std::max(FloorTo(newest_sample_ms_ - options_.seal_lag.count(), window_ms()), sealed_through_ms_);
  if (*oldest_head_window_ + window_ms() > cutoff) return Status::Ok();
  return Checkpoint();
}

Status SqliteStore::Checkpoint() {
  if (options_.read_only) return Status::ReadOnly("store opened read-only");
  const int64_t window = window_ms();
  Transaction txn(db_.get(), /*immediate=*/true);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto sealed = GetState("sealed_through_ms", kMinTime);
  if (!sealed) return sealed.error();
  auto newest_stmt = db_->Prepare("SELECT max(max_time_ms) FROM events WHERE kind = ?");
  if (!newest_stmt) return newest_stmt.error();
  newest_stmt->Bind(1, KindParam(EventKind::kSamples));
  Status status;
  if (!newest_stmt->Step(&status) || newest_stmt->IsNull(0)) return status;
  const int64_t cutoff = std::max(FloorTo(newest_stmt->Int(0) - options_.seal_lag.count(), window), *sealed);
  auto horizon = GetState("raw_horizon_ms", kMinTime);
  if (!horizon) return horizon.error();

  auto events = db_->Prepare(
      "SELECT seq, window_start_ms, payload FROM events WHERE kind = ? AND window_start_ms <= ?"
      " ORDER BY window_start_ms, seq");
  if (!events) return events.error();
  events->Bind(1, KindParam(EventKind::kSamples)).Bind(2, cutoff - window);
  int64_t windows = 0, sealed_samples = 0, dropped = 0, event_count = 0;
  std::unordered_map<SeriesId, std::vector<Sample>> by_series;
  std::optional<int64_t> current;
  auto seal_window = [&](int64_t w) -> Status {
    ++windows;
    if (w + window <= *horizon) {  // late data for a time retention already dropped
      for (auto& [id, samples] : by_series) dropped += static_cast<int64_t>(samples.size());
      by_series.clear();
      return Status::Ok();
    }
    std::vector<SeriesId> ids;
    for (const auto& entry : by_series) ids.push_back(entry.first);
    std::sort(ids.begin(), ids.end());  // deterministic order of chunk rows
    for (SeriesId id : ids) {
      std::vector<Sample> merged;
      OFFMON_RETURN_IF_ERROR(ReadChunks(id, w, w + window, &merged));
      auto& fresh = by_series[id];
      merged.insert(merged.end(), fresh.begin(), fresh.end());
      SortAndDedupe(&merged);
      auto upsert = db_->Cached(
          "INSERT INTO chunks(series_id, window_start_ms, min_time_ms, max_time_ms, sample_count, data, crc)"
          " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(series_id, window_start_ms) DO UPDATE SET"
          " min_time_ms = excluded.min_time_ms, max_time_ms = excluded.max_time_ms,"
          " sample_count = excluded.sample_count, data = excluded.data, crc = excluded.crc");
      if (!upsert) return upsert.error();
      const int64_t lo = ToMillis(merged.front().time), hi = ToMillis(merged.back().time);
      const auto count = static_cast<int64_t>(merged.size());
      const std::string data = EncodeChunk(merged);
      (*upsert)->Bind(1, id).Bind(2, w).Bind(3, lo).Bind(4, hi).Bind(5, count).BindBlob(6, data)
          .Bind(7, ChunkRow::Checksum(id, w, lo, hi, count, data));
      OFFMON_RETURN_IF_ERROR((*upsert)->Run());
      OFFMON_RETURN_IF_ERROR(WriteRollups(id, merged, w, w + window));
      sealed_samples += static_cast<int64_t>(fresh.size());
    }
    by_series.clear();
    return Status::Ok();
  };
  while (events->Step(&status)) {
    int64_t w = events->Int(1);
    if (current && *current != w) OFFMON_RETURN_IF_ERROR(seal_window(*current));
    current = w;
    ++event_count;
    OFFMON_RETURN_IF_ERROR(DecodeSampleBatch(events->Blob(2), w, [&](int64_t id, Sample s) {
      by_series[id].push_back(s);
    }).WithContext(fmt::format("event {}", events->Int(0))));
  }
  OFFMON_RETURN_IF_ERROR(status);
  if (!current) return txn.Commit();
  OFFMON_RETURN_IF_ERROR(seal_window(*current));

  // Sealed events some remote-write endpoint has not been sent yet stay readable to it.
  OFFMON_RETURN_IF_ERROR(KeepUnsentSampleEvents("window_start_ms <= ?", {cutoff - window}));
  auto del = db_->Prepare("DELETE FROM events WHERE kind = ? AND window_start_ms <= ?");
  if (!del) return del.error();
  del->Bind(1, KindParam(EventKind::kSamples)).Bind(2, cutoff - window);
  OFFMON_RETURN_IF_ERROR(del->Run());
  auto seq = InsertEvent(EventKind::kCheckpoint, "store",
                         nlohmann::json{{"windows", windows}, {"events", event_count}, {"samples", sealed_samples},
                                        {"dropped_expired", dropped}, {"through_ms", cutoff}}.dump(),
                         newest_sample_ms_ == kMinTime ? cutoff : newest_sample_ms_);
  if (!seq) return seq.error();
  OFFMON_RETURN_IF_ERROR(SetState("sealed_through_ms", cutoff));
  OFFMON_RETURN_IF_ERROR(BumpHeadGeneration());
  OFFMON_RETURN_IF_ERROR(txn.Commit());

  sealed_through_ms_ = cutoff;
  auto rest = db_->Prepare("SELECT min(window_start_ms), max(max_time_ms) FROM events WHERE kind = ?");
  if (!rest) return rest.error();
  rest->Bind(1, KindParam(EventKind::kSamples));
  oldest_head_window_.reset();
  if (rest->Step(&status) && !rest->IsNull(0)) {
    oldest_head_window_ = rest->Int(0);
    newest_sample_ms_ = std::max(newest_sample_ms_, rest->Int(1));
  }
  return status;
}

}  // namespace offmon::store
