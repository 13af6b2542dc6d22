// PostgresCollector: the monitored pipeline's PostgreSQL database, read through libpqxx
// (the guide's "Database Connectivity" and "Epoch Sealing Cadence" checks).
//
// Series (Prometheus naming), at the cycle's `now` unless noted:
//   db_up                        1 when connected and `SELECT 1` answered, else 0
//   db_response_seconds          round trip of `SELECT 1` (steady clock)
//   db_events_last_hour          channel_participation rows first seen in the last hour
//   db_latest_epoch              max(sealed_epochs.epoch), unix seconds
//   db_latest_epoch_age_seconds  database now() - max(sealed_epochs.sealed_at)
//   epoch_participants{channel}  per sealed epoch, at its sealed_at: count(*) of its
//                                sealed_participants rows
//   epoch_published{channel}     per sealed epoch, at its sealed_at: published (0/1)
//   epoch_participation_users{channel}
//                                per sealed epoch, at its sealed_at: distinct user_hash of
//                                channel_participation for that (epoch, channel) with
//                                first_seen < sealed_at (seen before it was sealed); the
//                                analyzer compares it with epoch_participants. Not
//                                recorded while channel_participation lacks one of
//                                epoch, channel, user_hash, first_seen (reported).
// Every sealed epoch sealed since the previous cycle goes to sink.RecordEpoch with its
// ordered participant list; an epoch reported before whose root or published flag has
// changed is recorded again; one that disappeared is an EventKind::kEpochVanished event.
// Failures go to sink.CollectorFailed("postgres", "<class>: <message>") where class is
// one of: refused, auth failed, timeout, TLS, missing table, missing column, no URL,
// other. No text the collector emits holds the password.
//
// The database: one connection, opened on the first cycle and reused; when it breaks (as
// seen on its socket before reuse, or by a failing statement) it is reopened at once,
// and when opening fails, retried after an exponential backoff
// (kMinBackoff doubling to kMaxBackoff, measured on the cycle times, never sleeping).
// The URL is used as given (its sslmode is honoured; the collector never adds or weakens
// one) plus connect_timeout from the config (which wins over one in the URL) and
// fallback_application_name=offmon. Each session sets statement_timeout from the config
// and default_transaction_read_only; each cycle reads in one REPEATABLE READ, READ ONLY
// transaction, so all its queries see one snapshot. The tables' columns are read from
// information_schema at the start of every cycle (so also right after connecting):
// token_group, category and published_at are optional; a missing required column or
// table is reported by name and only the metrics that depend on it are skipped.
//
// Epochs are read in sealed_at order from a watermark (a sealed_at second) plus the set
// of epochs already handed over, so epochs sealed in the same second are neither missed
// nor repeated; an audit of the last kAuditWindow also catches rows committed after the
// watermark had passed their sealed_at.
//
// Memory: a cycle holds the participant lists of the epochs it hands over (as strings,
// ~80 bytes per participant, until the store has written them), so a backlog is taken in
// cycles of at most kMaxParticipantsPerCycle participants: each epoch's count is queried
// first, and one that would overflow the budget waits for the next cycle (the first epoch
// of a cycle is always taken, however large). Lists are streamed from a cursor in pages
// of 1,000 rows, never held whole in a libpq result.
//
// Thread safety: driven by one thread, like every Collector.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "offmon/collector/collector.h"
#include "offmon/collector/database_url.h"
#include "offmon/common/config.h"
#include "offmon/common/result.h"

namespace offmon::collector {

class PostgresCollector final : public Collector {
 public:
  // (channel, epoch) -> root of sealed epochs already in the store.
  using KnownRoots = std::map<std::pair<std::string, int64_t>, std::string>;

  // Without a watermark the first cycle reports the epochs sealed in this much time.
  static constexpr Duration kFirstRunLookback = std::chrono::hours(48);
  // Sealed epochs whose epoch lies this far back are audited every cycle.
  static constexpr Duration kAuditWindow = std::chrono::hours(48);
  // At most this many epochs, and this many participants (except for a cycle's first
  // epoch), are read per cycle; the rest follow in the next cycles, so a long backlog
  // costs neither memory nor a timeout. 5,000 participants take ~0.4 MB here, and the
  // store's write of them (new users) about twice that: what keeps the daemon's peak RSS
  // under 20 MB (README, footprint). That is 1 to 5 of the guide's epochs (1,000 to
  // 5,000 participants) per cycle: a 48 h backlog of three channels at 3,000
  // participants is in after ~90 cycles (1.5 h at the default 60 s interval), while
  // new epochs come at a few per hour.
  static constexpr size_t kMaxEpochsPerCycle = 100;
  static constexpr size_t kMaxParticipantsPerCycle = 5'000;
  // Reconnection backoff after a failed connection attempt.
  static constexpr Duration kMinBackoff = std::chrono::seconds(5);
  static constexpr Duration kMaxBackoff = std::chrono::minutes(5);

  // `url` is ResolveDatabaseUrl's result; when it failed, every cycle reports "no URL".
  // `last_sealed_at`: sealed_at of the newest epoch already in the store; epochs sealed
  // at or after it are reported, except those in `known_roots`, which (for the audit
  // window) says what the store holds, so a restart neither repeats nor misses epochs.
  PostgresCollector(PostgresConfig config, Result<DatabaseUrl> url, std::optional<TimePoint> last_sealed_at = std::nullopt,
                    KnownRoots known_roots = {});
  ~PostgresCollector() override;
  PostgresCollector(const PostgresCollector&) = delete;
  PostgresCollector& operator=(const PostgresCollector&) = delete;

  std::string_view name() const override { return "postgres"; }
  // Never throws; see the header comment for what it records.
  void Collect(TimePoint now, SampleSink& sink) override;

  // Whether a connection is open (after the last cycle).
  bool connected() const;
  // Connection attempts made so far (backoff skips do not count).
  int64_t connect_attempts() const;
  // The watermark: epochs sealed before it have all been handed to the sink. nullopt
  // until the first cycle that read epochs, unless given to the constructor.
  std::optional<TimePoint> watermark() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace offmon::collector
