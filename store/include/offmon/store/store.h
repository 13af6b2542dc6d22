// Store: offmon's embedded, event-sourced SQLite time-series store.
//
// The append-only `events` table is the truth. Series definitions, sample batches,
// imports, checkpoints and retention runs are events with a strictly increasing sequence
// number. Raw sample events are checkpointed like a WAL: once a time window is complete,
// its samples are sealed into one encoded chunk per series (the chunk then is the durable
// record of those samples) and the sample events are removed, in one transaction.
// Projections (the series catalogue and the 5-minute and 1-hour rollups) are derived and
// can be dropped and rebuilt from the log with Rebuild(). See docs/store-schema.md.
//
// Thread safety: a Store object and its Appenders are used by one thread at a time (the
// daemon calls them only from its io_context thread; collectors run on a pool but hand
// their batches back to that thread). Any number of Store
// objects (in any number of processes) may read while one writes: SQLite's WAL mode
// gives each read a consistent snapshot.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "offmon/common/observation.h"
#include "offmon/common/result.h"
#include "offmon/common/sample.h"
#include "offmon/common/series_key.h"
#include "offmon/store/event.h"
#include "offmon/store/options.h"
#include "offmon/store/selector.h"

namespace offmon::store {

using SeriesId = int64_t;

struct SeriesInfo {
  SeriesId id = 0;
  SeriesKey key;
};

// The newest sample of one series (ReadLatest).
struct LatestSample {
  SeriesId id = 0;
  SeriesKey key;
  Sample sample;
};

// One bucket of a rollup: the samples with bucket_start <= t < bucket_start + step.
struct RollupBucket {
  TimePoint start;
  double min = 0;
  double max = 0;
  double sum = 0;
  int64_t count = 0;
  double avg() const { return count ? sum / static_cast<double>(count) : 0; }
  friend bool operator==(const RollupBucket&, const RollupBucket&) = default;
};

enum class RollupStep { k5m, k1h };
Duration StepDuration(RollupStep step);

struct StoreInfo {
  std::string path;
  int64_t file_bytes = 0;      // the database file plus its -wal file
  int schema_version = 0;
  int64_t series = 0;
  int64_t samples = 0;         // sealed plus head
  int64_t head_samples = 0;    // not yet sealed into chunks
  int64_t chunks = 0;
  std::optional<TimePoint> first_sample, last_sample;
  int64_t events = 0;          // rows in the event log now
  int64_t last_event_seq = 0;  // highest sequence number ever assigned
  std::vector<std::pair<std::string, int64_t>> events_by_kind;
};

// A sealed epoch as the store holds it: the participant set is a CRoaring bitmap of
// stable user ids in the portable serialization format, or empty bytes when no set was
// observed (a count-only observation; the projection keeps a set observed before under
// the same root).
struct EpochRecord {
  std::string channel;
  int64_t epoch = 0;
  TimePoint sealed_at;
  bool published = false;
  std::optional<TimePoint> published_at;
  std::string root;
  std::string token_group, category;
  int64_t participants = 0;
  std::string bitmap;
  int64_t seq = 0;          // the event that recorded this observation
  TimePoint observed_at;    // when offmon saw it
  bool has_participant_set() const { return !bitmap.empty(); }
  friend bool operator==(const EpochRecord&, const EpochRecord&) = default;
};

// Decodes an epoch_sealed event's payload. Corruption when it does not decode.
Result<EpochRecord> DecodeEpochEvent(const Event& event);

// An event the remote-write sender reads (docs/remote-write.md): a sample batch, decoded,
// or a remote_write_gap event with its JSON payload.
struct ForwardEvent {
  int64_t seq = 0;
  TimePoint time;
  EventKind kind = EventKind::kSamples;
  std::vector<std::pair<SeriesId, Sample>> samples;  // kSamples only, in write order
  std::string payload;                               // other kinds
};

// One remote-write endpoint's durable cursor and what it still has to send.
struct RemoteWriteCursor {
  std::string endpoint;
  int64_t seq = 0;              // the last event sent and acknowledged (0: none yet)
  int64_t pending_events = 0;   // forwardable events after seq, in the log and the backlog
  Duration lag{0};              // now minus the time of the oldest pending event; 0 when none
};

class Appender;

class Store {
 public:
  // Opens (or, unless read_only, creates and migrates) the store at options.path.
  // Failures, each leaving the file untouched: NotAStore (not SQLite, or SQLite that is
  // not an offmon store), TooNew (a newer schema version), Corruption, ReadOnly, IOError,
  // NotFound (read_only or !create_if_missing and no file).
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A batch writer; it borrows the Store. Any number may be open at once (the daemon
  // keeps one per collector and one for log tails), each committing, failing and
  // retrying its batch on its own; they share the Store's series ids (Appender::Ref).
  virtual std::unique_ptr<Appender> NewAppender(std::string source) = 0;

  // Appends a non-sample event (an import record, later alert transitions) in its own
  // transaction and returns its sequence number.
  virtual Result<int64_t> AppendEvent(EventKind kind, std::string_view source,
                                      std::string_view payload, TimePoint at) = 0;

  // Seals every complete window of head samples into chunks and rollups. Appender::Commit
  // calls it; exposed for tests and for `store compact`.
  virtual Status Checkpoint() = 0;

  // Deletes raw data older than `now - retention.raw` and rollups past their horizons,
  // and records a Retention event. Rollups older than the raw horizon become the durable
  // record of that time (see docs/store-schema.md).
  virtual Status ApplyRetention(TimePoint now) = 0;

  // Drops every projection (catalogue, rollups still derivable from raw data) and
  // rebuilds it from the event log and sealed chunks, in one transaction.
  virtual Status Rebuild() = 0;

  // ---- reads: each call sees one consistent snapshot ----
  virtual Result<std::vector<SeriesInfo>> Select(const Selector& selector) = 0;
  // Samples of one series with from <= t < to, sorted by time, one per timestamp (the
  // latest written wins).
  virtual Result<std::vector<Sample>> ReadRange(SeriesId series, TimePoint from, TimePoint to) = 0;
  // The newest sample of every series that has one at or after `since` (at equal times
  // the latest written wins), ordered by series key. Reads the cached head plus at most
  // one chunk per series (an index lookup each), so it is cheap enough for every scrape.
  virtual Result<std::vector<LatestSample>> ReadLatest(TimePoint since) = 0;
  // Rollup buckets whose start lies in [from, to), sorted; buckets with no samples absent.
  virtual Result<std::vector<RollupBucket>> ReadRollup(SeriesId series, RollupStep step,
                                                       TimePoint from, TimePoint to) = 0;
  // Events with seq > after_seq, of the given kind (or any kind when nullopt), in order.
  // The latest observation of each sealed epoch with from <= sealed_at < to, ordered by
  // sealed_at then channel.
  virtual Result<std::vector<EpochRecord>> ReadEpochs(TimePoint from, TimePoint to) = 0;
  virtual Result<std::vector<Event>> ReadEvents(int64_t after_seq, std::optional<EventKind> kind,
                                                size_t limit) = 0;
  virtual Result<StoreInfo> Info() = 0;
  // The key of a series id; NotFound when no committed batch defined it.
  virtual Result<SeriesKey> SeriesKeyOf(SeriesId id) = 0;

  // ---- remote write: durable cursors over the log (docs/remote-write.md) ----
  // Forwardable events (samples, remote_write_gap) with seq > after_seq,
  // from the log and from the backlog of sealed events not yet sent everywhere, in seq
  // order, as many as fit in max_samples samples (at least one when there is any, however
  // large: the caller splits it).
  virtual Result<std::vector<ForwardEvent>> ReadForwardEvents(int64_t after_seq, size_t max_samples) = 0;
  // The endpoint's cursor, created at 0 (the oldest event still held) when it has none.
  // From then on checkpoints keep, in the backlog, the sample events it has not passed.
  virtual Result<int64_t> OpenRemoteWriteCursor(std::string_view endpoint, TimePoint now) = 0;
  // Moves the endpoint's cursor to `seq` and deletes backlog rows every cursor has passed.
  virtual Status AdvanceRemoteWriteCursor(std::string_view endpoint, int64_t seq, TimePoint now) = 0;
  // Every endpoint's cursor with its pending events and lag at `now`, by name.
  virtual Result<std::vector<RemoteWriteCursor>> RemoteWriteCursors(TimePoint now) = 0;
  // Integrity: SQLite's integrity_check, every chunk and sample event decodes, counts and
  // references agree. Returns the list of problems found (empty when healthy).
  virtual Result<std::vector<std::string>> Check() = 0;

 protected:
  Store() = default;
};

// Collects one batch of samples and writes it in one transaction.
class Appender {
 public:
  virtual ~Appender() = default;
  // Returns the id of `key`, the same in every Appender of this Store. A key new to the
  // store gets an id no other key has or will have from this Store, kept for that key
  // even if this batch fails or is rolled back; the first batch using the key that
  // commits defines the series (an event in that batch).
  virtual Result<SeriesId> Ref(const SeriesKey& key) = 0;
  virtual void Add(SeriesId series, TimePoint time, double value) = 0;
  // Adds a non-sample event (an import record, a collector failure) to this batch.
  virtual void AttachEvent(EventKind kind, std::string payload) = 0;
  // Adds a sealed epoch to this batch; its participants are mapped to stable user ids.
  virtual void AddEpoch(EpochObservation epoch) = 0;
  // Writes the batch: series definitions and sample events, all or nothing. DiskFull,
  // ReadOnly, Busy or IOError leave the store as it was and the batch pending, so the
  // caller may retry or Rollback. Then seals complete windows (Store::Checkpoint).
  virtual Status Commit(TimePoint at) = 0;
  // Drops the pending batch. The ids it Ref'd stay with their keys.
  virtual void Rollback() = 0;
  virtual size_t pending_samples() const = 0;
};

}  // namespace offmon::store
