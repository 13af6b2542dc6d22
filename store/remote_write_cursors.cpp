// Remote-write cursors over the event log (docs/remote-write.md): each endpoint's last
// acknowledged event, the backlog that keeps sealed sample events until every endpoint
// has been sent them, and the gaps retention records when it must drop unsent ones.
//
// Why a backlog table instead of keeping sealed events in `events`: every read of the
// head (ranges, latest, rollups of open windows, checkpoints) takes sample events as
// unsealed; a copy that only the sender reads leaves all of them as they are.
#include "sqlite_store_impl.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace offmon::store {

namespace {

// Kinds the sender reads, bound as ?1, ?2 in the statements below: the samples, and the
// gaps retention records (alerts reach it as offmon_alert samples).
constexpr EventKind kForwarded[] = {EventKind::kSamples, EventKind::kRemoteWriteGap};

void BindForwardedKinds(Statement& stmt) {
  int index = 0;
  for (EventKind kind : kForwarded) stmt.Bind(++index, KindParam(kind));
}

}  // namespace

Result<SeriesKey> SqliteStore::SeriesKeyOf(SeriesId id) {
  auto stmt = db_->Cached("SELECT key FROM series WHERE id = ?");
  if (!stmt) return stmt.error();
  (*stmt)->Reset();
  (*stmt)->Bind(1, id);
  Status status;
  if (!(*stmt)->Step(&status)) {
    OFFMON_RETURN_IF_ERROR(status);
    return Status::NotFound(fmt::format("series {} is not defined", id));
  }
  auto key = ParseSeriesKey((*stmt)->Text(0));
  (*stmt)->Reset();
  if (!key) return Status::Corruption(fmt::format("series {}: {}", id, key.error().message()));
  return std::move(*key);
}

Result<std::vector<ForwardEvent>> SqliteStore::ReadForwardEvents(int64_t after_seq, size_t max_samples) {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  // A page of events at a time: one cycle's event holds its collector's samples, so a
  // batch of max_samples rarely needs more than a few dozen.
  constexpr int64_t kPage = 256;
  auto stmt = db_->Prepare(
      "SELECT seq, time_ms, kind, window_start_ms, payload, sample_count FROM ("
      " SELECT seq, time_ms, kind, window_start_ms, payload, coalesce(sample_count, 0) AS sample_count FROM events"
      "  WHERE seq > ?3 AND kind IN (?1, ?2)"
      " UNION ALL SELECT seq, time_ms, ?1, window_start_ms, payload, sample_count FROM remote_write_backlog"
      "  WHERE seq > ?3)"
      " ORDER BY seq LIMIT ?4");
  if (!stmt) return stmt.error();
  std::vector<ForwardEvent> out;
  size_t samples = 0;
  int64_t cursor = after_seq;
  while (true) {
    stmt->Reset();
    BindForwardedKinds(*stmt);
    stmt->Bind(3, cursor).Bind(4, kPage);
    Status status;
    int64_t rows = 0;
    bool full = false;
    while (stmt->Step(&status)) {
      ++rows;
      // The next event would not fit: leave it for the next batch (unless it is the first).
      if (!out.empty() && samples + static_cast<size_t>(stmt->Int(5)) > max_samples) {
        full = true;
        break;
      }
      ForwardEvent event;
      event.seq = cursor = stmt->Int(0);
      event.time = FromMillis(stmt->Int(1));
      event.kind = static_cast<EventKind>(stmt->Int(2));
      if (event.kind == EventKind::kSamples) {
        OFFMON_RETURN_IF_ERROR(DecodeSampleBatch(stmt->Blob(4), stmt->Int(3), [&](int64_t id, Sample s) {
          event.samples.emplace_back(id, s);
        }).WithContext(fmt::format("event {}", event.seq)));
        samples += event.samples.size();
      } else {
        event.payload = std::string(stmt->Blob(4));
      }
      out.push_back(std::move(event));
    }
    OFFMON_RETURN_IF_ERROR(status);
    if (full || rows < kPage) break;
  }
  return out;
}

Result<int64_t> SqliteStore::OpenRemoteWriteCursor(std::string_view endpoint, TimePoint now) {
  if (options_.read_only) return Status::ReadOnly("store opened read-only");
  auto insert = db_->Prepare(
      "INSERT INTO remote_write_cursors(endpoint, seq, event_time_ms, updated_ms) VALUES (?, 0, 0, ?)"
      " ON CONFLICT(endpoint) DO NOTHING");
  if (!insert) return insert.error();
  insert->Bind(1, endpoint).Bind(2, ToMillis(now));
  OFFMON_RETURN_IF_ERROR(insert->Run());
  auto read = db_->Prepare("SELECT seq FROM remote_write_cursors WHERE endpoint = ?");
  if (!read) return read.error();
  read->Bind(1, endpoint);
  Status status;
  if (!read->Step(&status)) return status.ok() ? Status::IOError("remote write cursor: not written") : status;
  return read->Int(0);
}

Status SqliteStore::AdvanceRemoteWriteCursor(std::string_view endpoint, int64_t seq, TimePoint now) {
  if (options_.read_only) return Status::ReadOnly("store opened read-only");
  Transaction txn(db_.get(), /*immediate=*/true);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto update = db_->Cached("UPDATE remote_write_cursors SET seq = max(seq, ?), updated_ms = ? WHERE endpoint = ?");
  if (!update) return update.error();
  (*update)->Bind(1, seq).Bind(2, ToMillis(now)).Bind(3, endpoint);
  OFFMON_RETURN_IF_ERROR((*update)->Run());
  auto prune = db_->Cached(
      "DELETE FROM remote_write_backlog WHERE seq <= (SELECT coalesce(min(seq), 0) FROM remote_write_cursors)");
  if (!prune) return prune.error();
  OFFMON_RETURN_IF_ERROR((*prune)->Run());
  return txn.Commit();
}

Result<std::vector<RemoteWriteCursor>> SqliteStore::RemoteWriteCursors(TimePoint now) {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  // A reader may open a store of an older version that it does not migrate.
  auto version = db_->QueryInt("PRAGMA user_version");
  if (!version) return version.error();
  if (*version < 5) return std::vector<RemoteWriteCursor>{};
  auto cursors = db_->Prepare("SELECT endpoint, seq FROM remote_write_cursors ORDER BY endpoint");
  if (!cursors) return cursors.error();
  auto pending = db_->Prepare(
      "SELECT count(*), min(time_ms) FROM ("
      " SELECT time_ms FROM events WHERE seq > ?3 AND kind IN (?1, ?2)"
      " UNION ALL SELECT time_ms FROM remote_write_backlog WHERE seq > ?3)");
  if (!pending) return pending.error();
  std::vector<RemoteWriteCursor> out;
  Status status;
  while (cursors->Step(&status)) {
    RemoteWriteCursor cursor{std::string(cursors->Text(0)), cursors->Int(1)};
    pending->Reset();
    BindForwardedKinds(*pending);
    pending->Bind(3, cursor.seq);
    Status pending_status;
    if (pending->Step(&pending_status)) {
      cursor.pending_events = pending->Int(0);
      if (!pending->IsNull(1)) {
        cursor.lag = std::max(Duration(0), std::chrono::duration_cast<Duration>(now - FromMillis(pending->Int(1))));
      }
    }
    OFFMON_RETURN_IF_ERROR(pending_status);
    out.push_back(std::move(cursor));
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

Status SqliteStore::KeepUnsentSampleEvents(std::string_view where, std::initializer_list<int64_t> params) {
  // With no cursor, min() is NULL and nothing is kept.
  auto keep = db_->Prepare(fmt::format(
      "INSERT OR IGNORE INTO remote_write_backlog(seq, time_ms, window_start_ms, sample_count, payload)"
      " SELECT seq, time_ms, window_start_ms, sample_count, payload FROM events WHERE kind = ? AND ({})"
      " AND seq > (SELECT min(seq) FROM remote_write_cursors)",
      where));
  if (!keep) return keep.error();
  keep->Bind(1, KindParam(EventKind::kSamples));
  int index = 1;
  for (int64_t param : params) keep->Bind(++index, param);
  return keep->Run();
}

Status SqliteStore::RecordRemoteWriteGaps(int64_t horizon_ms, int64_t now_ms) {
  auto cursors = db_->Prepare("SELECT endpoint, seq FROM remote_write_cursors ORDER BY endpoint");
  if (!cursors) return cursors.error();
  auto lost = db_->Prepare(
      "SELECT count(*), coalesce(sum(sample_count), 0), min(seq), max(seq) FROM ("
      " SELECT seq, sample_count FROM events WHERE kind = ?1 AND seq > ?2 AND window_start_ms + ?3 <= ?4"
      " UNION ALL SELECT seq, sample_count FROM remote_write_backlog"
      "  WHERE seq > ?2 AND window_start_ms + ?3 <= ?4)");
  if (!lost) return lost.error();
  std::vector<std::pair<std::string, nlohmann::json>> gaps;
  Status status;
  while (cursors->Step(&status)) {
    lost->Reset();
    lost->Bind(1, KindParam(EventKind::kSamples)).Bind(2, cursors->Int(1)).Bind(3, window_ms()).Bind(4, horizon_ms);
    Status lost_status;
    if (lost->Step(&lost_status) && lost->Int(0) > 0) {
      gaps.emplace_back(std::string(cursors->Text(0)),
                        nlohmann::json{{"endpoint", cursors->Text(0)}, {"after_seq", cursors->Int(1)},
                                       {"first_seq", lost->Int(2)}, {"through_seq", lost->Int(3)},
                                       {"events", lost->Int(0)}, {"samples", lost->Int(1)}});
    }
    OFFMON_RETURN_IF_ERROR(lost_status);
  }
  OFFMON_RETURN_IF_ERROR(status);
  for (const auto& [endpoint, gap] : gaps) {
    auto seq = InsertEvent(EventKind::kRemoteWriteGap, "store", gap.dump(), now_ms);
    if (!seq) return seq.error();
  }
  auto drop = db_->Prepare("DELETE FROM remote_write_backlog WHERE window_start_ms + ? <= ?");
  if (!drop) return drop.error();
  drop->Bind(1, window_ms()).Bind(2, horizon_ms);
  return drop->Run();
}

}  // namespace offmon::store
