// SqliteStore and SqliteAppender, the SQLite implementation of Store and Appender
// (store.h), and what the files implementing them share. The implementation is split by
// job, as Prometheus' tsdb splits head, wal, chunks and compaction; each member below is
// defined in the file its group names:
//   store_open.cpp  open, migrate, the series catalogue, store_state
//   appender.cpp    Appender; writing events into the log
//   checkpoint.cpp  sealing head windows into chunks
//   rollups.cpp     writing and verifying rollup rows
//   retention.cpp   dropping time past the retention horizons
//   repair.cpp      rebuilding projections from the log; check; checksum verification
//   epochs.cpp      participant users and the epoch projection
//   reader.cpp      reads: catalogue, ranges, latest, rollups, events, info
//   remote_write_cursors.cpp  remote-write cursors, the backlog and its gaps
// Format: docs/store-schema.md. Thread safety: as Store's (store.h).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "checksum_impl.h"
#include "offmon/store/store.h"
#include "sample_batch_codec_impl.h"
#include "sqlite_handle_impl.h"

namespace offmon::store {

inline constexpr int64_t kDayMs = 86'400'000;
inline constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();

// An event kind as an SQL parameter: kinds are bound, never written into SQL as numbers.
constexpr int64_t KindParam(EventKind kind) { return static_cast<int64_t>(kind); }

// Rollup rows hold 24 buckets: 2 h of 5-minute buckets, a day of 1-hour buckets.
struct RollupLayout {
  int64_t step_ms;
  int64_t row_ms;
};
inline constexpr RollupLayout kLayouts[] = {{300'000, 7'200'000}, {3'600'000, kDayMs}};

inline const RollupLayout& LayoutFor(RollupStep step) { return kLayouts[step == RollupStep::k5m ? 0 : 1]; }

// rollups.cpp: the checksum of a rollup row (docs/store-schema.md#checksums); what a
// rollup row of step_s (a `step_s` column value) covers, and its name for error messages.
int64_t RollupChecksum(SeriesId series, int64_t step_s, int64_t window_start, std::string_view data);
int64_t RollupRowMs(int64_t step_s);
std::string RollupWhat(int64_t step_s);

// The columns every chunk read selects, in this order (ChunkRow::Read).
inline constexpr std::string_view kChunkColumns =
    "series_id, window_start_ms, min_time_ms, max_time_ms, sample_count, data, crc";

// One row of `chunks`, as read; `data` points into the statement's current row.
struct ChunkRow {
  SeriesId series = 0;
  int64_t window_start = 0, min_time = 0, max_time = 0, count = 0, crc = 0;
  std::string_view data;

  static ChunkRow Read(const Statement& stmt, int first) {
    return ChunkRow{stmt.Int(first), stmt.Int(first + 1), stmt.Int(first + 2), stmt.Int(first + 3),
                    stmt.Int(first + 4), stmt.Int(first + 6), stmt.Blob(first + 5)};
  }
  static int64_t Checksum(SeriesId series, int64_t window_start, int64_t min_time, int64_t max_time, int64_t count,
                          std::string_view data) {
    return RowChecksum({series, window_start, min_time, max_time, count}, data);
  }
  bool intact() const { return Checksum(series, window_start, min_time, max_time, count, data) == crc; }
};

// Sorts by time, keeping the last-written sample of each timestamp. Input is in write
// order, so a stable sort leaves later writes after earlier ones. In reader.cpp.
void SortAndDedupe(std::vector<Sample>* samples);

class SqliteStore;

class SqliteAppender final : public Appender {
 public:
  SqliteAppender(SqliteStore* store, std::string source) : store_(store), source_(std::move(source)) {}
  Result<SeriesId> Ref(const SeriesKey& key) override;
  void Add(SeriesId series, TimePoint time, double value) override {
    samples_.push_back(SeriesSample{series, Sample{time, value}});
  }
  Status Commit(TimePoint at) override;
  void Rollback() override;
  size_t pending_samples() const override { return samples_.size(); }
  void AttachEvent(EventKind kind, std::string payload) override { attached_.emplace_back(kind, std::move(payload)); }
  void AddEpoch(EpochObservation epoch) override { epochs_.push_back(std::move(epoch)); }

 private:
  SqliteStore* store_;
  std::string source_;
  // Series this batch uses that were not yet defined in the store when Ref'd, in Ref
  // order; Commit defines those still undefined then.
  std::vector<std::pair<SeriesId, std::string>> new_series_;
  std::unordered_set<SeriesId> new_ids_;
  std::vector<SeriesSample> samples_;
  std::vector<std::pair<EventKind, std::string>> attached_;
  std::vector<EpochObservation> epochs_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(StoreOptions options) : options_(std::move(options)) {}

  // store_open.cpp
  Status Init();

  // appender.cpp
  std::unique_ptr<Appender> NewAppender(std::string source) override {
    return std::make_unique<SqliteAppender>(this, std::move(source));
  }
  Result<int64_t> AppendEvent(EventKind kind, std::string_view source, std::string_view payload,
                              TimePoint at) override;

  Status Checkpoint() override;                  // checkpoint.cpp
  Status ApplyRetention(TimePoint now) override;  // retention.cpp
  // repair.cpp
  Status Rebuild() override;
  Result<std::vector<std::string>> Check() override;

  // reader.cpp
  Result<std::vector<SeriesInfo>> Select(const Selector& selector) override;
  Result<std::vector<Sample>> ReadRange(SeriesId series, TimePoint from, TimePoint to) override;
  Result<std::vector<LatestSample>> ReadLatest(TimePoint since) override;
  Result<std::vector<RollupBucket>> ReadRollup(SeriesId series, RollupStep step, TimePoint from,
                                               TimePoint to) override;
  Result<std::vector<Event>> ReadEvents(int64_t after_seq, std::optional<EventKind> kind,
                                        size_t limit) override;
  Result<StoreInfo> Info() override;
  Result<SeriesKey> SeriesKeyOf(SeriesId id) override;

  // remote_write_cursors.cpp
  Result<std::vector<ForwardEvent>> ReadForwardEvents(int64_t after_seq, size_t max_samples) override;
  Result<int64_t> OpenRemoteWriteCursor(std::string_view endpoint, TimePoint now) override;
  Status AdvanceRemoteWriteCursor(std::string_view endpoint, int64_t seq, TimePoint now) override;
  Result<std::vector<RemoteWriteCursor>> RemoteWriteCursors(TimePoint now) override;

  // epochs.cpp
  Result<std::vector<EpochRecord>> ReadEpochs(TimePoint from, TimePoint to) override;

 private:
  friend class SqliteAppender;

  int64_t window_ms() const { return options_.chunk_window.count(); }

  // store_open.cpp
  Status Migrate(int from_version);
  Status LoadSeriesCatalogue();
  Result<int64_t> GetState(std::string_view key, int64_t fallback);
  Status SetState(std::string_view key, int64_t value);
  Status BumpHeadGeneration();

  // appender.cpp
  Result<int64_t> InsertEvent(EventKind kind, std::string_view source, std::string_view payload,
                              int64_t at_ms);
  Result<int64_t> InsertSamplesEvent(std::string_view source, int64_t at_ms, int64_t window_start,
                                     std::span<const SeriesSample> samples);

  // checkpoint.cpp
  Status MaybeCheckpoint();

  // remote_write_cursors.cpp; inside the caller's write transaction.
  // Copies the sample events `where` selects (an SQL condition on `events` with `params`)
  // that some endpoint's cursor has not passed into the backlog, before they are deleted.
  Status KeepUnsentSampleEvents(std::string_view where, std::initializer_list<int64_t> params);
  // Records one remote_write_gap event per endpoint whose unsent sample events (log and
  // backlog) lie in windows ending at or before `horizon_ms`, then deletes those backlog rows.
  Status RecordRemoteWriteGaps(int64_t horizon_ms, int64_t now_ms);

  // rollups.cpp
  // Rewrites the rollup buckets of `series` that start in [from, to) from `samples`
  // (time-sorted, within that range), merging with rows that exist.
  Status WriteRollups(SeriesId series, std::span<const Sample> samples, int64_t from, int64_t to);
  // Appends a rollup row's buckets to `out` after checking its checksum: Corruption
  // naming the series and time range when it disagrees or the bytes do not decode.
  Status VerifiedRollup(SeriesId series, int64_t step_s, int64_t window_start, std::string_view data, int64_t crc,
                        std::vector<RollupBucket>* out) const;

  // repair.cpp
  // Verifies the checksum of every chunk and rollup row; the first mismatch as Corruption.
  // Writers call it on open, after QuickCheck: reading every row's bytes costs about as
  // much again as quick_check's walk over the pages (docs/store-schema.md#checksums).
  Status VerifyChecksums();

  // epochs.cpp
  // Maps participants to user ids (registering new ones), writes one epoch_sealed event
  // per epoch and updates the epochs projection. Returns the next free user id, which
  // the caller adopts once the transaction commits.
  Result<int64_t> WriteEpochs(const std::vector<EpochObservation>& epochs, std::string_view source, int64_t at_ms);
  Status ProjectEpoch(const EpochRecord& epoch);
  Status RebuildEpochs();

  // reader.cpp
  Status ReadChunks(SeriesId series, int64_t from, int64_t to, std::vector<Sample>* out);
  // Appends a chunk's samples to `out` after checking its checksum: Corruption naming
  // the series and window when it disagrees or the bytes do not decode.
  Status DecodeVerifiedChunk(const ChunkRow& chunk, std::vector<Sample>* out) const;
  Status ChecksumMismatch(std::string_view what, SeriesId series, int64_t from_ms, int64_t to_ms) const;
  // Brings the in-memory head cache up to date with the log; call inside a transaction.
  Status RefreshHead();
  // Reads raw samples; call inside a transaction after RefreshHead().
  Status ReadRangeLocked(SeriesId series, int64_t from, int64_t to, std::vector<Sample>* out);

  StoreOptions options_;
  std::unique_ptr<Database> db_;
  // Every key ever given an id by this Store: the catalogue (defined) plus keys Ref'd by
  // a batch not yet committed (reserved). A key's id never changes and next_series_id_
  // never goes back, so no two keys share an id however batches fail, retry or roll
  // back; a reservation whose batch is dropped is kept, and the id reused for the same
  // key only (the catalogue may have gaps). Only a committed transaction sets `defined`.
  struct SeriesEntry {
    SeriesId id = 0;
    bool defined = false;
  };
  std::unordered_map<std::string, SeriesEntry> series_by_key_;
  SeriesId next_series_id_ = 1;
  int64_t next_user_id_ = 1;

  // The head (sample events not yet sealed) by series, in write order. Rebuilt when a
  // checkpoint, retention or rebuild changes the head generation, else extended with
  // events past max_seq: the log is append-only between those.
  struct HeadCache {
    int64_t generation = -1;
    int64_t max_seq = 0;
    std::unordered_map<SeriesId, std::vector<Sample>> samples;
    std::vector<int64_t> windows;  // distinct window starts present in the head
  } head_;

  // Writer-side view of the head, to decide cheaply after a commit whether to seal.
  std::optional<int64_t> oldest_head_window_;
  int64_t newest_sample_ms_ = kMinTime;
  int64_t sealed_through_ms_ = kMinTime;
};

}  // namespace offmon::store
