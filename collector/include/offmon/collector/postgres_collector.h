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
//                                sealed_participants rows (an index count, never the rows)
//   epoch_published{channel}     per sealed epoch, at its sealed_at: published (0/1)
//   epoch_participation_users{channel}
//                                per sealed epoch sealed in the last 24 h, at its
//                                sealed_at: distinct user_hash of channel_participation
//                                for that (epoch, channel) with first_seen < sealed_at
//                                (seen before it was sealed); the analyzer compares it
//                                with epoch_participants. Not recorded while
//                                channel_participation lacks one of epoch, channel,
//                                user_hash, first_seen (reported).
//   db_backfill_oldest_epoch     the epoch (unix seconds) down to which every sealed epoch
//                                has been read: the backfill's progress
//   db_backfill_done             1 once the backfill has reached its horizon (or the
//                                database's oldest epoch), else 0
// Every sealed epoch goes to sink.RecordEpoch once with its count, and with its ordered
// participant list when it lies within `participant_sets` and the cycle's set budget
// allows (else the set follows in a later cycle as a set-only observation, without
// samples); an epoch whose root or published flag has changed is recorded again; one
// that disappeared is an EventKind::kEpochVanished event.
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
// Every cycle, whatever the backlog, first reads the current state: events in the last
// hour, the newest epoch (timed with `SELECT 1` as db_response_seconds; a table locked for
// lock_timeout fails the cycle as "locked", and that wait is the response time), then
// the audit window: the metadata of every sealed epoch whose epoch lies within
// max(kMinAuditWindow, participant_sets), compared with what was handed over. New
// epochs (so the newest of every channel on the first cycle) and changed ones are
// handed over with counts from one aggregate query; vanished ones become events.
//
// Participant sets are read within their own budget (kMaxParticipantsPerCycle, at most
// kMaxEpochsPerCycle sets; a cycle's first set always fits), newest first, from a cursor
// in pages of 1,000 rows; they never hold back the counts.
//
// The backfill then reads older history, newest first, kBackfillSlice (48 h of epochs)
// per cycle, down to `backfill`: the counts of the epochs the store does not hold
// (given to the constructor), so a restart resumes where the store ends and a gap
// while offmon was down is filled.
//
// Memory: a cycle holds at most the budget's participant sets (~0.4 MB as strings) plus
// one metadata row per epoch of the audit window or slice (a few hundred).
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
  // What the store holds of a sealed epoch.
  struct KnownEpoch {
    std::string root;
    int64_t participants = 0;
    bool has_set = false;
  };
  // (channel, epoch) -> the sealed epochs already in the store, within the backfill.
  using KnownEpochs = std::map<std::pair<std::string, int64_t>, KnownEpoch>;

  // Sealed epochs whose epoch lies this far back (at least; participant_sets if longer)
  // are audited every cycle: new, changed or vanished.
  static constexpr Duration kMinAuditWindow = std::chrono::hours(48);
  // At most this many participant sets, and this many participants (except for a
  // cycle's first set), are read per cycle; the rest follow in the next cycles, so a
  // long backlog costs neither memory nor a timeout. 5,000 participants take ~0.4 MB
  // here, and the store's write of them (new users) about twice that: what keeps the
  // daemon's peak RSS under 20 MB (README, footprint). Counts are not limited: they are
  // aggregates.
  static constexpr size_t kMaxEpochsPerCycle = 100;
  static constexpr size_t kMaxParticipantsPerCycle = 5'000;
  // Reconnection backoff after a failed connection attempt.
  static constexpr Duration kMinBackoff = std::chrono::seconds(5);
  static constexpr Duration kMaxBackoff = std::chrono::minutes(5);

  // `url` is ResolveDatabaseUrl's result; when it failed, every cycle reports "no URL".
  // `known`: what the store holds within the backfill horizon, so a restart neither
  // repeats nor misses epochs, and a root rewritten while offmon was down is noticed.
  // `events_stored_until`: the time of the store's newest db_events_last_hour sample, so
  // the minutes reconstructed after a restart never restate a stored sample.
  PostgresCollector(PostgresConfig config, Result<DatabaseUrl> url, KnownEpochs known = {},
                    std::optional<TimePoint> events_stored_until = std::nullopt);
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
  // The backfill's progress: every sealed epoch whose epoch is at or after it has been
  // handed over. nullopt until the first cycle that read epochs.
  std::optional<TimePoint> backfilled_to() const;
  bool backfill_done() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace offmon::collector
