// Repair: Rebuild (the projections from the event log and sealed chunks), Check (the
// integrity report of `offmon store check`) and the checksum verification on open.
#include "sqlite_store_impl.h"

#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "offmon/store/chunk_codec.h"

namespace offmon::store {

Status SqliteStore::Rebuild() {
  if (options_.read_only) return Status::ReadOnly("store opened read-only");
  Transaction txn(db_.get(), /*immediate=*/true);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  // The catalogue, from the SeriesDefined events.
  OFFMON_RETURN_IF_ERROR(db_->Exec("DELETE FROM series"));
  {
    auto events = db_->Prepare("SELECT seq, payload FROM events WHERE kind = ? ORDER BY seq");
    if (!events) return events.error();
    events->Bind(1, KindParam(EventKind::kSeriesDefined));
    auto insert = db_->Prepare("INSERT INTO series(id, key) VALUES (?, ?)");
    if (!insert) return insert.error();
    Status status;
    while (events->Step(&status)) {
      auto payload = nlohmann::json::parse(events->Blob(1), nullptr, /*allow_exceptions=*/false);
      if (!payload.is_object() || !payload["id"].is_number_integer() || !payload["series"].is_string()) {
        return Status::Corruption(fmt::format("event {}: bad series definition", events->Int(0)));
      }
      insert->Bind(1, payload["id"].get<int64_t>()).Bind(2, payload["series"].get<std::string>());
      OFFMON_RETURN_IF_ERROR(insert->Run());
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  // Rollups, from sealed chunks. Rows wholly before the raw horizon have no raw data
  // left to rebuild them from: they are the durable record of that time and stay.
  auto horizon = GetState("raw_horizon_ms", kMinTime);
  if (!horizon) return horizon.error();
  for (const RollupLayout& layout : kLayouts) {
    auto del = db_->Prepare("DELETE FROM rollups WHERE step_s = ? AND window_start_ms + ? > ?");
    if (!del) return del.error();
    del->Bind(1, layout.step_ms / 1000).Bind(2, layout.row_ms).Bind(3, *horizon);
    OFFMON_RETURN_IF_ERROR(del->Run());
  }
  auto chunks = db_->Prepare(fmt::format("SELECT {} FROM chunks ORDER BY series_id, window_start_ms", kChunkColumns));
  if (!chunks) return chunks.error();
  Status status;
  OFFMON_RETURN_IF_ERROR(RebuildEpochs());
  // Per series, consecutive chunks are rolled up a day at a time (one write per row).
  std::vector<Sample> day;
  SeriesId day_series = -1;
  int64_t day_start = 0;
  auto flush = [&]() -> Status {
    if (day.empty()) return Status::Ok();
    Status s = WriteRollups(day_series, day, day_start, day_start + kDayMs);
    day.clear();
    return s;
  };
  while (chunks->Step(&status)) {
    const ChunkRow chunk = ChunkRow::Read(*chunks, 0);
    int64_t d = FloorTo(chunk.window_start, kDayMs);
    if (chunk.series != day_series || d != day_start) {
      OFFMON_RETURN_IF_ERROR(flush());
      day_series = chunk.series;
      day_start = d;
    }
    OFFMON_RETURN_IF_ERROR(DecodeVerifiedChunk(chunk, &day));
  }
  OFFMON_RETURN_IF_ERROR(status);
  OFFMON_RETURN_IF_ERROR(flush());
  OFFMON_RETURN_IF_ERROR(BumpHeadGeneration());
  OFFMON_RETURN_IF_ERROR(txn.Commit());
  return LoadSeriesCatalogue();
}

Status SqliteStore::VerifyChecksums() {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  Status status;
  auto chunks = db_->Prepare(fmt::format("SELECT {} FROM chunks", kChunkColumns));
  if (!chunks) return chunks.error();
  while (chunks->Step(&status)) {
    const ChunkRow chunk = ChunkRow::Read(*chunks, 0);
    if (!chunk.intact()) {
      return ChecksumMismatch("the chunk", chunk.series, chunk.window_start, chunk.window_start + window_ms());
    }
  }
  OFFMON_RETURN_IF_ERROR(status);
  auto rollups = db_->Prepare("SELECT series_id, step_s, window_start_ms, data, crc FROM rollups");
  if (!rollups) return rollups.error();
  while (rollups->Step(&status)) {
    const int64_t step_s = rollups->Int(1), start = rollups->Int(2);
    if (RollupChecksum(rollups->Int(0), step_s, start, rollups->Blob(3)) != rollups->Int(4)) {
      return ChecksumMismatch(RollupWhat(step_s), rollups->Int(0), start, start + RollupRowMs(step_s));
    }
  }
  return status;
}

Result<std::vector<std::string>> SqliteStore::Check() {
  std::vector<std::string> problems;
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  Status status;
  {
    auto stmt = db_->Prepare("PRAGMA integrity_check(20)");
    if (!stmt) return stmt.error();
    while (stmt->Step(&status)) {
      if (stmt->Text(0) != "ok") problems.push_back(fmt::format("sqlite: {}", stmt->Text(0)));
    }
    if (!status.ok()) {
      problems.push_back(status.message());
      return problems;
    }
  }
  std::unordered_map<SeriesId, std::string> defined;
  {
    auto stmt = db_->Prepare("SELECT seq, payload FROM events WHERE kind = ?");
    if (!stmt) return stmt.error();
    stmt->Bind(1, KindParam(EventKind::kSeriesDefined));
    while (stmt->Step(&status)) {
      auto payload = nlohmann::json::parse(stmt->Blob(1), nullptr, false);
      if (!payload.is_object() || !payload["id"].is_number_integer() || !payload["series"].is_string()) {
        problems.push_back(fmt::format("event {}: bad series definition", stmt->Int(0)));
        continue;
      }
      defined[payload["id"].get<int64_t>()] = payload["series"].get<std::string>();
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  {
    auto stmt = db_->Prepare("SELECT id, key FROM series");
    if (!stmt) return stmt.error();
    size_t rows = 0;
    while (stmt->Step(&status)) {
      ++rows;
      auto it = defined.find(stmt->Int(0));
      if (it == defined.end() || it->second != stmt->Text(1)) {
        problems.push_back(fmt::format("series {}: catalogue disagrees with the event log (run store rebuild)", stmt->Int(0)));
      }
    }
    OFFMON_RETURN_IF_ERROR(status);
    if (rows != defined.size()) problems.push_back("series catalogue is missing series defined in the log (run store rebuild)");
  }
  {
    auto stmt = db_->Prepare(fmt::format("SELECT id, {} FROM chunks", kChunkColumns));
    if (!stmt) return stmt.error();
    std::vector<Sample> samples;
    while (stmt->Step(&status)) {
      samples.clear();
      const ChunkRow chunk = ChunkRow::Read(*stmt, 1);
      std::string where = fmt::format("chunk {} (series {})", stmt->Int(0), stmt->Int(1));
      if (!chunk.intact()) {
        problems.push_back(fmt::format("{}: {}", where, ChecksumMismatch("the chunk", chunk.series, chunk.window_start,
                                                                        chunk.window_start + window_ms()).message()));
        continue;
      }
      Status decoded = DecodeChunk(chunk.data, &samples);
      if (!decoded.ok()) {
        problems.push_back(fmt::format("{}: {}", where, decoded.message()));
      } else if (static_cast<int64_t>(samples.size()) != stmt->Int(5) || samples.empty() ||
                 ToMillis(samples.front().time) != stmt->Int(3) || ToMillis(samples.back().time) != stmt->Int(4) ||
                 FloorTo(stmt->Int(3), window_ms()) != stmt->Int(2) || FloorTo(stmt->Int(4), window_ms()) != stmt->Int(2)) {
        problems.push_back(fmt::format("{}: header disagrees with its data", where));
      }
      if (!defined.contains(stmt->Int(1))) problems.push_back(fmt::format("{}: series not defined", where));
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  {
    auto stmt = db_->Prepare("SELECT seq, window_start_ms, sample_count, payload FROM events WHERE kind = ?");
    if (!stmt) return stmt.error();
    stmt->Bind(1, KindParam(EventKind::kSamples));
    while (stmt->Step(&status)) {
      int64_t count = 0;
      bool undefined = false, outside = false;
      int64_t w = stmt->Int(1);
      Status decoded = DecodeSampleBatch(stmt->Blob(3), w, [&](int64_t id, Sample s) {
        ++count;
        undefined |= !defined.contains(id);
        outside |= FloorTo(ToMillis(s.time), window_ms()) != w;
      });
      std::string where = fmt::format("event {}", stmt->Int(0));
      if (!decoded.ok()) problems.push_back(fmt::format("{}: {}", where, decoded.message()));
      else if (count != stmt->Int(2) || outside) problems.push_back(fmt::format("{}: header disagrees with its samples", where));
      if (undefined) problems.push_back(fmt::format("{}: sample of an undefined series", where));
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  {
    auto stmt = db_->Prepare("SELECT seq, time_ms, payload FROM events WHERE kind = ?");
    if (!stmt) return stmt.error();
    stmt->Bind(1, KindParam(EventKind::kEpochSealed));
    while (stmt->Step(&status)) {
      auto record = DecodeEpochEvent(Event{stmt->Int(0), FromMillis(stmt->Int(1)), "", EventKind::kEpochSealed,
                                           std::string(stmt->Blob(2))});
      if (!record) problems.push_back(record.error().message());
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  {
    auto stmt = db_->Prepare("SELECT id, series_id, step_s, window_start_ms, data, crc FROM rollups");
    if (!stmt) return stmt.error();
    std::vector<RollupBucket> buckets;
    while (stmt->Step(&status)) {
      buckets.clear();
      Status decoded = VerifiedRollup(stmt->Int(1), stmt->Int(2), stmt->Int(3), stmt->Blob(4), stmt->Int(5), &buckets);
      if (!decoded.ok()) problems.push_back(fmt::format("rollup row {}: {}", stmt->Int(0), decoded.message()));
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  return problems;
}

}  // namespace offmon::store
