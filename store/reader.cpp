// Reads: the series catalogue, raw ranges (sealed chunks merged with the cached head),
// the latest sample of each series, rollups, events and store info.
#include "sqlite_store_impl.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "offmon/store/chunk_codec.h"
#include "rollup_codec_impl.h"

namespace offmon::store {

void SortAndDedupe(std::vector<Sample>* samples) {
  auto by_time = [](const Sample& a, const Sample& b) { return a.time < b.time; };
  if (!std::is_sorted(samples->begin(), samples->end(), by_time)) {
    std::stable_sort(samples->begin(), samples->end(), by_time);
  }
  size_t out = 0;
  for (size_t i = 0; i < samples->size(); ++i) {
    if (i + 1 < samples->size() && (*samples)[i + 1].time == (*samples)[i].time) continue;
    (*samples)[out++] = (*samples)[i];
  }
  samples->resize(out);
}

Result<std::vector<SeriesInfo>> SqliteStore::Select(const Selector& selector) {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto stmt = db_->Prepare("SELECT id, key FROM series ORDER BY key");
  if (!stmt) return stmt.error();
  std::vector<SeriesInfo> out;
  Status status;
  while (stmt->Step(&status)) {
    auto key = ParseSeriesKey(stmt->Text(1));
    if (!key) return Status::Corruption(fmt::format("series {}: {}", stmt->Int(0), key.error().message()));
    if (selector.Matches(*key)) out.push_back(SeriesInfo{stmt->Int(0), std::move(*key)});
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

Status SqliteStore::ChecksumMismatch(std::string_view what, SeriesId series, int64_t from_ms, int64_t to_ms) const {
  // The catalogue maps key to id; a reverse walk is fine on this error path.
  std::string name = fmt::format("series id {}", series);
  for (const auto& [key, entry] : series_by_key_) {
    if (entry.id == series) name = key;
  }
  return Status::Corruption(fmt::format(
      "{} of {} for {} .. {} is damaged (checksum mismatch); offmon store check lists every damaged row", what, name,
      FormatRfc3339(FromMillis(from_ms)), FormatRfc3339(FromMillis(to_ms))));
}

Status SqliteStore::DecodeVerifiedChunk(const ChunkRow& chunk, std::vector<Sample>* out) const {
  const int64_t end = chunk.window_start + window_ms();
  if (!chunk.intact()) return ChecksumMismatch("the chunk", chunk.series, chunk.window_start, end);
  return DecodeChunk(chunk.data, out).WithContext(fmt::format("chunk of series {} at {}", chunk.series,
                                                              FormatRfc3339(FromMillis(chunk.window_start))));
}

Status SqliteStore::ReadChunks(SeriesId series, int64_t from, int64_t to, std::vector<Sample>* out) {
  auto stmt = db_->Cached(fmt::format(
      "SELECT {} FROM chunks WHERE series_id = ? AND window_start_ms >= ? AND window_start_ms < ?"
      " ORDER BY window_start_ms", kChunkColumns));
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, series).Bind(2, FloorTo(from, window_ms())).Bind(3, to);
  Status status;
  while ((*stmt)->Step(&status)) {
    size_t before = out->size();
    const ChunkRow chunk = ChunkRow::Read(**stmt, 0);
    Status decoded = DecodeVerifiedChunk(chunk, out);
    if (!decoded.ok()) {
      (*stmt)->Reset();
      return decoded;
    }
    if (chunk.min_time < from || chunk.max_time >= to) {
      auto first = std::lower_bound(out->begin() + static_cast<ptrdiff_t>(before), out->end(), FromMillis(from),
                                    [](const Sample& s, TimePoint t) { return s.time < t; });
      out->erase(out->begin() + static_cast<ptrdiff_t>(before), first);
      auto last = std::lower_bound(out->begin() + static_cast<ptrdiff_t>(before), out->end(), FromMillis(to),
                                   [](const Sample& s, TimePoint t) { return s.time < t; });
      out->erase(last, out->end());
    }
  }
  (*stmt)->Reset();
  return status;
}

Status SqliteStore::RefreshHead() {
  // Two indexed lookups decide whether anything changed; most reads stop here.
  auto generation = GetState("head_generation", 0);
  if (!generation) return generation.error();
  auto last_seq = db_->Cached("SELECT coalesce(max(seq), 0) FROM events");
  if (!last_seq) return last_seq.error();
  Status status;
  const int64_t newest = (*last_seq)->Step(&status) ? (*last_seq)->Int(0) : 0;
  (*last_seq)->Reset();
  OFFMON_RETURN_IF_ERROR(status);
  if (*generation == head_.generation && newest == head_.max_seq) return Status::Ok();
  if (*generation != head_.generation) {
    head_ = HeadCache{};
    head_.generation = *generation;
  }
  // `+kind` keeps SQLite on the primary key: only events past max_seq are visited.
  auto stmt = db_->Cached("SELECT seq, window_start_ms, payload FROM events WHERE seq > ? AND +kind = ? ORDER BY seq");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, head_.max_seq).Bind(2, KindParam(EventKind::kSamples));
  while ((*stmt)->Step(&status)) {
    int64_t w = (*stmt)->Int(1);
    if (std::find(head_.windows.begin(), head_.windows.end(), w) == head_.windows.end()) head_.windows.push_back(w);
    Status decoded = DecodeSampleBatch((*stmt)->Blob(2), w, [&](int64_t id, Sample s) {
      head_.samples[id].push_back(s);
    });
    if (!decoded.ok()) {
      int64_t seq = (*stmt)->Int(0);
      (*stmt)->Reset();
      head_ = HeadCache{};
      return decoded.WithContext(fmt::format("event {}", seq));
    }
  }
  (*stmt)->Reset();
  OFFMON_RETURN_IF_ERROR(status);
  head_.max_seq = newest;
  return Status::Ok();
}

Status SqliteStore::ReadRangeLocked(SeriesId series, int64_t from, int64_t to, std::vector<Sample>* out) {
  OFFMON_RETURN_IF_ERROR(ReadChunks(series, from, to, out));
  auto it = head_.samples.find(series);
  if (it == head_.samples.end()) return Status::Ok();
  std::vector<Sample> fresh;
  for (const Sample& s : it->second) {
    if (ToMillis(s.time) >= from && ToMillis(s.time) < to) fresh.push_back(s);
  }
  if (fresh.empty()) return Status::Ok();
  if (out->empty() || fresh.front().time > out->back().time) {
    SortAndDedupe(&fresh);
    if (out->empty() || fresh.front().time > out->back().time) {
      out->insert(out->end(), fresh.begin(), fresh.end());
      return Status::Ok();
    }
  }
  // Late samples overlapping sealed data: head samples were written later, so they win.
  out->insert(out->end(), fresh.begin(), fresh.end());
  SortAndDedupe(out);
  return Status::Ok();
}

Result<std::vector<Sample>> SqliteStore::ReadRange(SeriesId series, TimePoint from, TimePoint to) {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  OFFMON_RETURN_IF_ERROR(RefreshHead());
  std::vector<Sample> out;
  OFFMON_RETURN_IF_ERROR(ReadRangeLocked(series, ToMillis(from), ToMillis(to), &out));
  return out;
}

Result<std::vector<LatestSample>> SqliteStore::ReadLatest(TimePoint since) {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  OFFMON_RETURN_IF_ERROR(RefreshHead());
  const int64_t since_ms = ToMillis(since);
  auto series = db_->Prepare("SELECT id, key FROM series ORDER BY key");
  if (!series) return series.error();
  // The newest chunk of a series that can hold a sample at or after `since`.
  auto newest_chunk = db_->Cached(fmt::format(
      "SELECT {} FROM chunks WHERE series_id = ? AND window_start_ms >= ? ORDER BY window_start_ms DESC LIMIT 1",
      kChunkColumns));
  if (!newest_chunk) return newest_chunk.error();
  std::vector<LatestSample> out;
  std::vector<Sample> decoded;
  Status status;
  while (series->Step(&status)) {
    const SeriesId id = series->Int(0);
    std::optional<Sample> newest;
    if (auto it = head_.samples.find(id); it != head_.samples.end()) {
      // Write order: a later sample with the same time replaces an earlier one.
      for (const Sample& s : it->second) {
        if (!newest || s.time >= newest->time) newest = s;
      }
    }
    (*newest_chunk)->Bind(1, id).Bind(2, FloorTo(since_ms, window_ms()));
    Status chunk_status;
    if ((*newest_chunk)->Step(&chunk_status) && (!newest || (*newest_chunk)->Int(3) > ToMillis(newest->time))) {
      decoded.clear();
      Status ok = DecodeVerifiedChunk(ChunkRow::Read(**newest_chunk, 0), &decoded);
      if (!ok.ok()) {
        (*newest_chunk)->Reset();
        return ok;
      }
      if (!decoded.empty()) newest = decoded.back();
    }
    (*newest_chunk)->Reset();
    OFFMON_RETURN_IF_ERROR(chunk_status);
    if (!newest || newest->time < since) continue;
    auto key = ParseSeriesKey(series->Text(1));
    if (!key) return Status::Corruption(fmt::format("series {}: {}", id, key.error().message()));
    out.push_back(LatestSample{id, std::move(*key), *newest});
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

Result<std::vector<RollupBucket>> SqliteStore::ReadRollup(SeriesId series, RollupStep step, TimePoint from,
                                                          TimePoint to) {
  const RollupLayout& layout = LayoutFor(step);
  const int64_t lo = ToMillis(from), hi = ToMillis(to);
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  OFFMON_RETURN_IF_ERROR(RefreshHead());
  std::vector<RollupBucket> out;
  auto stmt = db_->Cached(
      "SELECT window_start_ms, data, crc FROM rollups WHERE series_id = ? AND step_s = ? AND window_start_ms >= ?"
      " AND window_start_ms < ? ORDER BY window_start_ms");
  if (!stmt) return stmt.error();
  const int64_t step_s = layout.step_ms / 1000;
  (*stmt)->Bind(1, series).Bind(2, step_s).Bind(3, FloorTo(lo, layout.row_ms)).Bind(4, hi);
  Status status;
  while ((*stmt)->Step(&status)) {
    Status decoded = VerifiedRollup(series, step_s, (*stmt)->Int(0), (*stmt)->Blob(1), (*stmt)->Int(2), &out);
    if (!decoded.ok()) {
      (*stmt)->Reset();
      return decoded;
    }
  }
  (*stmt)->Reset();
  OFFMON_RETURN_IF_ERROR(status);
  std::erase_if(out, [&](const RollupBucket& b) { return ToMillis(b.start) < lo || ToMillis(b.start) >= hi; });
  // Windows still in the head are rolled up from raw samples, which include what
  // was sealed there before (late data) and what was not.
  if (head_.samples.contains(series)) {
    for (int64_t w : head_.windows) {
      const int64_t wlo = std::max(w, FloorTo(lo, layout.step_ms)), whi = std::min(w + window_ms(), hi);
      if (wlo >= whi) continue;
      std::vector<Sample> raw;
      OFFMON_RETURN_IF_ERROR(ReadRangeLocked(series, w, w + window_ms(), &raw));
      std::erase_if(out, [&](const RollupBucket& b) { return ToMillis(b.start) >= w && ToMillis(b.start) < w + window_ms(); });
      for (const RollupBucket& b : ComputeBuckets(raw, layout.step_ms)) {
        if (ToMillis(b.start) >= lo && ToMillis(b.start) < hi) out.push_back(b);
      }
    }
    std::sort(out.begin(), out.end(), [](const RollupBucket& a, const RollupBucket& b) { return a.start < b.start; });
  }
  return out;
}

Result<std::vector<Event>> SqliteStore::ReadEvents(int64_t after_seq, std::optional<EventKind> kind, size_t limit) {
  auto stmt = db_->Prepare(
      "SELECT seq, time_ms, source, kind, payload FROM events WHERE seq > ? AND (? IS NULL OR kind = ?)"
      " ORDER BY seq LIMIT ?");
  if (!stmt) return stmt.error();
  stmt->Bind(1, after_seq).Bind(4, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  if (kind) {
    stmt->Bind(2, static_cast<int64_t>(*kind)).Bind(3, static_cast<int64_t>(*kind));
  } else {
    stmt->BindNull(2).BindNull(3);
  }
  std::vector<Event> out;
  Status status;
  while (stmt->Step(&status)) {
    out.push_back(Event{stmt->Int(0), FromMillis(stmt->Int(1)), std::string(stmt->Text(2)),
                        static_cast<EventKind>(stmt->Int(3)), std::string(stmt->Blob(4))});
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

Result<StoreInfo> SqliteStore::Info() {
  StoreInfo info;
  info.path = options_.path.string();
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    auto size = std::filesystem::file_size(options_.path.string() + suffix, ec);
    if (!ec) info.file_bytes += static_cast<int64_t>(size);
  }
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto version = db_->QueryInt("PRAGMA user_version");
  if (!version) return version.error();
  info.schema_version = static_cast<int>(*version);
  auto stmt = db_->Prepare(
      "SELECT (SELECT count(*) FROM series),"
      " (SELECT count(*) FROM chunks), (SELECT coalesce(sum(sample_count), 0) FROM chunks),"
      " (SELECT min(min_time_ms) FROM chunks), (SELECT max(max_time_ms) FROM chunks),"
      " (SELECT coalesce(sum(sample_count), 0) FROM events WHERE kind = ?1),"
      " (SELECT min(min_time_ms) FROM events WHERE kind = ?1), (SELECT max(max_time_ms) FROM events WHERE kind = ?1),"
      " (SELECT count(*) FROM events), (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'events')");
  if (!stmt) return stmt.error();
  stmt->Bind(1, KindParam(EventKind::kSamples));  // ?1: the sample events' kind
  Status status;
  if (!stmt->Step(&status)) return status.ok() ? Status::Corruption("store info: no row") : status;
  info.series = stmt->Int(0);
  info.chunks = stmt->Int(1);
  info.head_samples = stmt->Int(5);
  info.samples = stmt->Int(2) + info.head_samples;
  for (int col : {3, 6}) {
    if (!stmt->IsNull(col)) info.first_sample = std::min(info.first_sample.value_or(TimePoint::max()), FromMillis(stmt->Int(col)));
  }
  for (int col : {4, 7}) {
    if (!stmt->IsNull(col)) info.last_sample = std::max(info.last_sample.value_or(TimePoint::min()), FromMillis(stmt->Int(col)));
  }
  info.events = stmt->Int(8);
  info.last_event_seq = stmt->Int(9);
  auto kinds = db_->Prepare("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind");
  if (!kinds) return kinds.error();
  while (kinds->Step(&status)) {
    info.events_by_kind.emplace_back(std::string(EventKindName(static_cast<EventKind>(kinds->Int(0)))), kinds->Int(1));
  }
  OFFMON_RETURN_IF_ERROR(status);
  return info;
}

}  // namespace offmon::store
