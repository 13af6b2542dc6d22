// The write path: Appender batches (series definitions, sample events one per chunk
// window, attached events and epochs) in one transaction each, and single events.
#include "sqlite_store_impl.h"

#include <algorithm>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace offmon::store {

Result<int64_t> SqliteStore::InsertEvent(EventKind kind, std::string_view source, std::string_view payload,
                                         int64_t at_ms) {
  auto stmt = db_->Cached("INSERT INTO events(time_ms, source, kind, payload) VALUES (?, ?, ?, ?)");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, at_ms).Bind(2, source).Bind(3, static_cast<int64_t>(kind)).BindBlob(4, payload);
  OFFMON_RETURN_IF_ERROR((*stmt)->Run());
  return sqlite3_last_insert_rowid(db_->raw());
}

Result<int64_t> SqliteStore::InsertSamplesEvent(std::string_view source, int64_t at_ms, int64_t window_start,
                                                std::span<const SeriesSample> samples) {
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = kMinTime;
  for (const SeriesSample& s : samples) {
    lo = std::min(lo, ToMillis(s.sample.time));
    hi = std::max(hi, ToMillis(s.sample.time));
  }
  auto stmt = db_->Cached(
      "INSERT INTO events(time_ms, source, kind, window_start_ms, min_time_ms, max_time_ms, sample_count, payload)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, at_ms).Bind(2, source).Bind(3, KindParam(EventKind::kSamples)).Bind(4, window_start)
      .Bind(5, lo).Bind(6, hi).Bind(7, static_cast<int64_t>(samples.size()))
      .BindBlob(8, EncodeSampleBatch(samples, window_start));
  OFFMON_RETURN_IF_ERROR((*stmt)->Run());
  return hi;
}

Result<int64_t> SqliteStore::AppendEvent(EventKind kind, std::string_view source, std::string_view payload,
                                         TimePoint at) {
  return InsertEvent(kind, source, payload, ToMillis(at));
}

Result<SeriesId> SqliteAppender::Ref(const SeriesKey& key) {
  std::string text = key.ToString();
  auto [it, fresh] = store_->series_by_key_.try_emplace(text);
  SqliteStore::SeriesEntry& entry = it->second;
  if (fresh) entry.id = store_->next_series_id_++;
  if (!entry.defined && new_ids_.insert(entry.id).second) new_series_.emplace_back(entry.id, std::move(text));
  return entry.id;
}

void SqliteAppender::Rollback() {
  // The reservations stay: another batch may use them, and a retry gets the same ids.
  new_series_.clear();
  new_ids_.clear();
  samples_.clear();
  attached_.clear();
  epochs_.clear();
}

Status SqliteAppender::Commit(TimePoint at) {
  Database* db = store_->db_.get();
  const int64_t at_ms = ToMillis(at);
  const int64_t window = store_->window_ms();
  int64_t newest = kMinTime;
  std::optional<int64_t> oldest_window;
  {
    Transaction txn(db, /*immediate=*/true);
    OFFMON_RETURN_IF_ERROR(txn.begin_status());
    for (const auto& [id, key] : new_series_) {
      if (auto it = store_->series_by_key_.find(key); it != store_->series_by_key_.end() && it->second.defined) {
        continue;  // defined by another batch since Ref
      }
      auto seq = store_->InsertEvent(EventKind::kSeriesDefined, source_,
                                     nlohmann::json{{"id", id}, {"series", key}}.dump(), at_ms);
      if (!seq) return seq.error();
      auto stmt = db->Cached("INSERT INTO series(id, key) VALUES (?, ?)");
      if (!stmt) return stmt.error();
      (*stmt)->Bind(1, id).Bind(2, key);
      OFFMON_RETURN_IF_ERROR((*stmt)->Run());
    }
    // One event per chunk window, so a checkpoint seals whole events. A collection
    // cycle is one window; an import may span many.
    auto window_of = [&](const SeriesSample& s) { return FloorTo(ToMillis(s.sample.time), window); };
    bool one_window = std::all_of(samples_.begin(), samples_.end(), [&](const SeriesSample& s) {
      return window_of(s) == window_of(samples_.front());
    });
    std::vector<SeriesSample> sorted;
    std::span<const SeriesSample> all(samples_);
    if (!one_window) {
      sorted = samples_;
      std::stable_sort(sorted.begin(), sorted.end(),
                       [&](const SeriesSample& a, const SeriesSample& b) { return window_of(a) < window_of(b); });
      all = sorted;
    }
    for (size_t i = 0; i < all.size();) {
      size_t j = i;
      int64_t w = window_of(all[i]);
      while (j < all.size() && window_of(all[j]) == w) ++j;
      auto hi = store_->InsertSamplesEvent(source_, at_ms, w, all.subspan(i, j - i));
      if (!hi) return hi.error();
      newest = std::max(newest, *hi);
      oldest_window = std::min(oldest_window.value_or(w), w);
      i = j;
    }
    for (const auto& [kind, payload] : attached_) {
      auto seq = store_->InsertEvent(kind, source_, payload, at_ms);
      if (!seq) return seq.error();
    }
    auto next_user = store_->WriteEpochs(epochs_, source_, at_ms);
    if (!next_user) return next_user.error();
    OFFMON_RETURN_IF_ERROR(txn.Commit());
    store_->next_user_id_ = *next_user;
  }
  for (const auto& [id, key] : new_series_) {
    SqliteStore::SeriesEntry& entry = store_->series_by_key_[key];
    if (!entry.defined) entry = SqliteStore::SeriesEntry{id, /*defined=*/true};
  }
  new_series_.clear();
  new_ids_.clear();
  samples_.clear();
  attached_.clear();
  epochs_.clear();
  if (oldest_window) {
    store_->oldest_head_window_ = std::min(store_->oldest_head_window_.value_or(*oldest_window), *oldest_window);
    store_->newest_sample_ms_ = std::max(store_->newest_sample_ms_, newest);
  }
  // The batch is durable; a failed checkpoint only delays sealing and is retried on
  // the next commit, so it does not fail the batch.
  (void)store_->MaybeCheckpoint().ok();
  return Status::Ok();
}

}  // namespace offmon::store
