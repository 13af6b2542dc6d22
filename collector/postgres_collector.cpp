#include "offmon/collector/postgres_collector.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

// libpqxx 6 headers trip our warning set (conversions, deprecated members).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <pqxx/pqxx>
#pragma GCC diagnostic pop

#include "offmon/common/metric_names.h"

namespace offmon::collector {

namespace {

constexpr std::string_view kCollectorName = "postgres";

// Failure classes: the first word(s) of every CollectorFailed reason.
constexpr std::string_view kRefused = "refused";
constexpr std::string_view kAuthFailed = "auth failed";
constexpr std::string_view kTimeout = "timeout";
constexpr std::string_view kLocked = "locked";
constexpr std::string_view kTls = "TLS";
constexpr std::string_view kMissingTable = "missing table";
constexpr std::string_view kMissingColumn = "missing column";
constexpr std::string_view kNoUrl = "no URL";
constexpr std::string_view kOther = "other";

// One snapshot for every query of a cycle, never a write.
using ReadTx = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

constexpr int64_t kHourSeconds = 3600;

// Participants are read through a cursor in pages of this many rows.
constexpr size_t kParticipantsPerFetch = 1000;

// The backfill reads this much history (by epoch) per cycle: one metadata query and one
// count query over the slice.
constexpr int64_t kBackfillSliceSeconds = 48 * kHourSeconds;
// epoch_participation_users is computed for epochs sealed this recently (EpochCountMismatch
// judges the last hours); older ones cost a DISTINCT over their participation rows each.
constexpr int64_t kUsersWindowSeconds = 24 * kHourSeconds;

// Closed after each epoch, so the name is free for the next one in the transaction.
constexpr const char* kDeclareParticipantsQuery =
    "DECLARE offmon_participants NO SCROLL CURSOR FOR"
    " SELECT user_hash FROM sealed_participants WHERE epoch = $1::bigint AND channel = $2::text ORDER BY idx";

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// libpq messages span lines ("...failed: Connection refused\n\tIs the server running");
// a failure reason is one line.
std::string OneLine(std::string_view text) {
  std::string out;
  bool blank = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out.push_back(' ');
    blank = false;
    out.push_back(c);
  }
  return out;
}

// Classifies a libpq connection error (libpqxx 6 gives no SQLSTATE for these).
std::string_view ClassifyConnectError(std::string_view m) {
  // Authentication first: a pg_hba rejection names the encryption ("SSL encryption").
  if (Contains(m, "password authentication failed") || Contains(m, "SASL authentication") ||
      Contains(m, "authentication failed") || Contains(m, "no pg_hba.conf entry") ||
      Contains(m, "password is required") || Contains(m, "SCRAM") ||
      (Contains(m, "role \"") && Contains(m, "does not exist"))) {
    return kAuthFailed;
  }
  if (Contains(m, "timeout expired") || Contains(m, "timed out")) return kTimeout;
  if (Contains(m, "SSL") || Contains(m, "certificate") || Contains(m, "TLS") || Contains(m, "sslmode") ||
      Contains(m, "GSSAPI")) {
    return kTls;
  }
  if (Contains(m, "Connection refused") || Contains(m, "No such file or directory") ||
      Contains(m, "Network is unreachable") || Contains(m, "No route to host") ||
      Contains(m, "the database system is") || Contains(m, "server closed the connection") ||
      Contains(m, "Connection reset")) {
    return kRefused;
  }
  return kOther;
}

std::string_view ClassifySqlState(const std::string& state) {
  if (state == "57014") return kTimeout;  // query_canceled: statement_timeout
  if (state == "55P03") return kLocked;   // lock_not_available: lock_timeout
  if (state == "42P01") return kMissingTable;
  if (state == "42703") return kMissingColumn;
  if (state.starts_with("28")) return kAuthFailed;
  if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03") return kRefused;
  return kOther;
}

struct Failure {
  std::string_view cls;
  std::string message;
};

// What information_schema says about one table. `present`: the name resolves on the
// search_path (to_regclass); `readable`: this role may SELECT from it.
struct TableInfo {
  bool present = false;
  bool readable = false;
  std::set<std::string> columns;
  bool Has(std::string_view column) const { return columns.count(std::string(column)) > 0; }
};

struct Schema {
  std::map<std::string, TableInfo, std::less<>> tables;

  // nullopt when `table` exists, is readable and has every column; else what is wrong.
  std::optional<Failure> Check(std::string_view table, std::initializer_list<std::string_view> columns,
                               std::string_view consequence) const {
    auto it = tables.find(table);
    if (it == tables.end() || !it->second.present) {
      return Failure{kMissingTable, fmt::format("{} not found on the search_path; {}", table, consequence)};
    }
    if (!it->second.readable) {
      return Failure{kOther, fmt::format("no SELECT privilege on {} for this role; {}", table, consequence)};
    }
    std::vector<std::string> missing;
    for (std::string_view column : columns) {
      if (!it->second.Has(column)) missing.push_back(fmt::format("{}.{}", table, column));
    }
    if (missing.empty()) return std::nullopt;
    return Failure{kMissingColumn, fmt::format("{} not found; {}", fmt::join(missing, ", "), consequence)};
  }
  const TableInfo& Table(std::string_view name) const {
    static const TableInfo kNone;  // NOLINT: immutable
    auto it = tables.find(name);
    return it == tables.end() ? kNone : it->second;
  }
};

constexpr std::string_view kEventsConsequence = "db_events_last_hour and epoch_participation_users are not collected";
constexpr std::string_view kEpochsConsequence = "epoch metrics are not collected";

std::optional<Failure> CheckEvents(const Schema& s) {
  return s.Check("channel_participation", {"epoch", "channel", "user_hash", "first_seen"}, kEventsConsequence);
}
std::optional<Failure> CheckEpochs(const Schema& s) {
  if (auto f = s.Check("sealed_epochs", {"epoch", "channel", "root", "sealed_at", "published"}, kEpochsConsequence)) {
    return f;
  }
  return s.Check("sealed_participants", {"epoch", "channel", "idx", "user_hash"}, kEpochsConsequence);
}

// Reads the three tables' columns. information_schema.columns lists every schema's
// tables, so only the schema the bare name resolves to (as in our queries) counts.
Schema DetectSchema(ReadTx& tx) {
  const pqxx::result rows = tx.exec(R"sql(
    SELECT t.name, c.column_name,
           to_regclass(t.name) IS NOT NULL,
           coalesce(has_table_privilege(to_regclass(t.name), 'SELECT'), false)
    FROM (VALUES ('channel_participation'), ('sealed_epochs'), ('sealed_participants')) AS t(name)
    LEFT JOIN information_schema.columns c
      ON c.table_name = t.name
     AND c.table_schema = (SELECT n.nspname
                           FROM pg_catalog.pg_class r
                           JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
                           WHERE r.oid = to_regclass(t.name)))sql");
  Schema schema;
  for (const pqxx::row& row : rows) {
    TableInfo& table = schema.tables[row[0].as<std::string>()];
    table.present = row[2].as<bool>();
    table.readable = row[3].as<bool>();
    if (!row[1].is_null()) table.columns.insert(row[1].as<std::string>());
  }
  return schema;
}

// One sealed_epochs row, as selected by EpochSelectList.
struct EpochRow {
  int64_t epoch = 0;
  std::string channel;
  std::string root;
  int64_t sealed_at = 0;  // unix seconds
  bool published = false;
  std::string token_group;
  std::string category;
  std::optional<int64_t> published_at_ms;
};

// The select list for EpochRow, using the optional columns only where they exist.
std::string EpochSelectList(const TableInfo& table) {
  return fmt::format(
      "epoch, channel, coalesce(root, ''), sealed_at, coalesce(published::int, 0), {}, {}, {}",
      table.Has("token_group") ? "coalesce(token_group, '')" : "''::text",
      table.Has("category") ? "coalesce(category, '')" : "''::text",
      table.Has("published_at") ? "(extract(epoch from published_at) * 1000)::bigint" : "NULL::bigint");
}

EpochRow ParseEpochRow(const pqxx::row& row) {
  EpochRow e;
  e.epoch = row[0].as<int64_t>();
  e.channel = row[1].as<std::string>();
  e.root = row[2].as<std::string>();
  e.sealed_at = row[3].as<int64_t>();
  e.published = row[4].as<int64_t>() != 0;
  e.token_group = row[5].as<std::string>();
  e.category = row[6].as<std::string>();
  if (!row[7].is_null()) e.published_at_ms = row[7].as<int64_t>();
  return e;
}

TimePoint FromSeconds(int64_t s) { return FromMillis(s * 1000); }
int64_t SecondsOf(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }
int64_t HourFloor(int64_t s) { return s - ((s % kHourSeconds) + kHourSeconds) % kHourSeconds; }

// A PostgreSQL array literal of `values` ('{"a","b"}'), for a parameter cast to an array
// type: every element quoted, so no channel name is parsed as syntax.
template <typename T, typename Fn>
std::string ArrayLiteral(const std::vector<T>& rows, Fn element) {
  std::string out = "{";
  for (const T& row : rows) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char c : std::string(element(row))) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

// Whether the server has closed an idle connection (a restart, a fast shutdown, a
// terminated backend): looked up on the socket before the connection is reused, so no
// statement is sent on a dead connection (libpqxx 6 leaks the failed result then).
bool PeerClosed(int fd) {
  if (fd < 0) return true;
  pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace

struct PostgresCollector::State {
  using Key = std::pair<std::string, int64_t>;  // (channel, epoch)
  // What was last handed to the sink for an epoch in the audit window. `published` is
  // unknown for epochs seeded from the store until an audit reads it.
  struct Reported {
    std::string root;
    std::optional<bool> published;
    int64_t participants = 0;
    bool has_set = false;
  };
  // An epoch to hand over this cycle: its row, its counts, and its set when read.
  struct Handover {
    EpochRow row;
    int64_t participants = 0;
    std::optional<int64_t> users;  // epoch_participation_users, when computed
    bool want_set = false;
    bool samples = true;  // false: only the set is new (the counts were recorded before)
    std::optional<std::vector<std::string>> set;
  };
  // Participant sets read in one cycle, against kMaxEpochsPerCycle / kMaxParticipantsPerCycle.
  struct SetBudget {
    size_t epochs = 0;
    size_t participants = 0;
    // Whether one more set of `count` participants fits. The first set of a cycle always
    // does, so one larger than the cap is still read, alone.
    bool Fits(size_t count) const {
      return epochs == 0 || (epochs < kMaxEpochsPerCycle && participants + count <= kMaxParticipantsPerCycle);
    }
  };
  enum class CycleEnd { kDone, kLostAtStart, kLost };

  PostgresConfig config;
  std::optional<DatabaseUrl> url;
  Status url_error;
  std::string conninfo;  // secret
  std::vector<std::string> secrets;  // scrubbed from every message (UrlSecrets)
  std::string last_failure;          // the reason repeated while backing off
  std::unique_ptr<pqxx::connection> conn;
  Duration backoff{0};
  TimePoint next_attempt{};
  int64_t attempts = 0;
  // What the store held at start; split on the first cycle into `reported` (the audit
  // window) and `stored` (older: the backfill skips them).
  std::optional<KnownEpochs> known;
  std::map<Key, Reported> reported;
  std::set<Key> stored;
  // The backfill: every sealed epoch with epoch >= backfill_before has been handed over
  // (the audit window by the audit, older ones by the backfill). Unset until the first
  // cycle that reads epochs.
  std::optional<int64_t> backfill_before;
  // The database time of the last db_events_last_hour sample: after none, or a gap, the
  // minutes before are reconstructed (EventsLastHour).
  std::optional<int64_t> events_at;
  // The newest db_events_last_hour sample in the store (an earlier run's, then ours): a
  // reconstruction only fills the time after it and never restates a stored sample.
  std::optional<TimePoint> events_stored_until;
  std::optional<int64_t> backfill_floor;  // where it is done: the horizon, or the oldest epoch
  bool backfill_done = false;
  // The probe (SELECT 1, then the newest epoch) of the current cycle, for db_response_seconds.
  std::optional<std::chrono::steady_clock::time_point> probe_start;
  std::optional<double> probe_seconds;

  std::string Clean(std::string_view text) const { return ScrubSecrets(OneLine(text), secrets); }

  void Fail(SampleSink& sink, std::string_view cls, std::string_view message) {
    last_failure = Clean(fmt::format("{}: {}", cls, message));
    sink.CollectorFailed(kCollectorName, last_failure);
  }
  // A cycle spent backing off is no success: /healthz, collector_up and CollectorFailing
  // must not see a database that is down as recovered between two attempts.
  void BackingOff(SampleSink& sink, TimePoint now) const {
    Up(sink, now, false);
    sink.CollectorStillFailing(kCollectorName, last_failure);
  }
  void Fail(SampleSink& sink, const Failure& f) { Fail(sink, f.cls, f.message); }

  static void Up(SampleSink& sink, TimePoint now, bool up) {
    sink.Append(SeriesKey(metric::kDbUp, {}), Sample{now, up ? 1.0 : 0.0});
  }

  void ScheduleRetry(TimePoint now) {
    backoff = backoff.count() == 0 ? kMinBackoff : std::min<Duration>(backoff * 2, kMaxBackoff);
    next_attempt = now + backoff;
  }

  void Drop() { conn.reset(); }

  // Opens the connection and configures the session. On failure: db_up 0, a failure,
  // and the next attempt pushed out by the backoff.
  bool Connect(TimePoint now, SampleSink& sink) {
    ++attempts;
    try {
      auto c = std::make_unique<pqxx::connection>(conninfo);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      c->inhibit_reactivation(true);  // a broken connection stays broken: we reconnect
#pragma GCC diagnostic pop
      {
        pqxx::nontransaction tx(*c);
        tx.exec(fmt::format("SET statement_timeout = {}", config.statement_timeout.count()));
        tx.exec(fmt::format("SET lock_timeout = {}", config.lock_timeout.count()));
        tx.exec("SET default_transaction_read_only = on");
        tx.commit();
      }
      conn = std::move(c);
    } catch (const std::exception& e) {
      Drop();
      ScheduleRetry(now);
      Up(sink, now, false);
      const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
      const std::string_view cls =
          sql != nullptr && !sql->sqlstate().empty() ? ClassifySqlState(sql->sqlstate()) : ClassifyConnectError(e.what());
      Fail(sink, cls, fmt::format("{} ({} from {}; next attempt in {}s)", e.what(), RedactUrl(url->url), url->origin,
                                  std::chrono::duration_cast<std::chrono::seconds>(backoff).count()));
      return false;
    }
    backoff = Duration(0);
    return true;
  }

  // Fills in the participant counts of `items` (and, for those sealed since
  // `users_since`, epoch_participation_users) with one aggregate query: an index count per
  // epoch, never the rows themselves.
  static void Count(ReadTx& tx, std::vector<Handover>& items, bool with_users, int64_t users_since) {
    std::vector<Handover*> todo;  // a set-only item's count is known
    for (Handover& h : items) {
      if (h.samples) todo.push_back(&h);
    }
    if (todo.empty()) return;
    const std::string epochs = ArrayLiteral(todo, [](const Handover* h) { return std::to_string(h->row.epoch); });
    const std::string channels = ArrayLiteral(todo, [](const Handover* h) { return h->row.channel; });
    const std::string sealed = ArrayLiteral(todo, [](const Handover* h) { return std::to_string(h->row.sealed_at); });
    const std::string counts =
        "SELECT k.i, (SELECT count(*) FROM sealed_participants p WHERE p.epoch = k.epoch AND p.channel = k.channel), "
        "{} FROM unnest($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY AS k(epoch, channel, sealed_at, i)";
    const pqxx::result rows =
        with_users ? tx.exec_params(fmt::format(fmt::runtime(counts),
                                                "CASE WHEN k.sealed_at >= $4::bigint THEN (SELECT count(DISTINCT c.user_hash)"
                                                " FROM channel_participation c WHERE c.epoch = k.epoch"
                                                " AND c.channel = k.channel AND c.first_seen < k.sealed_at) END"),
                                    epochs, channels, sealed, users_since)
                   : tx.exec_params(fmt::format(fmt::runtime(counts), "NULL::bigint"), epochs, channels, sealed);
    for (const pqxx::row& row : rows) {
      Handover& h = *todo.at(row[0].as<size_t>() - 1);
      h.participants = row[1].as<int64_t>();
      if (!row[2].is_null()) h.users = row[2].as<int64_t>();
    }
  }

  // Streams one epoch's participants through a cursor, kParticipantsPerFetch rows at a
  // time, so the libpq result never holds a whole list next to the copy for the sink.
  static std::vector<std::string> ReadSet(ReadTx& tx, const EpochRow& e, size_t count) {
    std::vector<std::string> set;
    set.reserve(count);
    tx.exec_params(kDeclareParticipantsQuery, e.epoch, e.channel);
    const std::string fetch = fmt::format("FETCH FORWARD {} FROM offmon_participants", kParticipantsPerFetch);
    for (;;) {
      const pqxx::result rows = tx.exec(fetch);
      for (const pqxx::row& row : rows) set.emplace_back(row[0].is_null() ? "" : row[0].c_str());
      if (rows.size() < kParticipantsPerFetch) break;
    }
    tx.exec("CLOSE offmon_participants");
    return set;
  }

  // Reads the sets of `items` that want one, newest first, as far as the cycle's set
  // budget goes; drops the items that came only for a set that did not fit.
  static void ReadSets(ReadTx& tx, std::vector<Handover>& items) {
    std::vector<Handover*> wanted;
    for (Handover& h : items) {
      if (h.want_set) wanted.push_back(&h);
    }
    std::sort(wanted.begin(), wanted.end(), [](const Handover* a, const Handover* b) {
      return std::tie(a->row.epoch, a->row.channel) > std::tie(b->row.epoch, b->row.channel);
    });
    SetBudget budget;
    for (Handover* h : wanted) {
      const auto count = static_cast<size_t>(h->participants);
      if (!budget.Fits(count)) continue;  // a smaller one further on may still fit
      h->set = ReadSet(tx, h->row, count);
      budget.participants += h->set->size();
      ++budget.epochs;
    }
    std::erase_if(items, [](const Handover& h) { return !h.samples && !h.set; });
  }

  // Hands over one epoch: its samples (unless only its set is new), then the observation.
  // The set is moved into the observation and the observation into the sink: a set is
  // held once, never copied (`h.set` is left engaged, its vector empty).
  static void Record(Handover& h, SampleSink& sink) {
    const EpochRow& e = h.row;
    EpochObservation obs;
    obs.channel = e.channel;
    obs.epoch = e.epoch;
    obs.sealed_at = FromSeconds(e.sealed_at);
    obs.published = e.published;
    if (e.published_at_ms) obs.published_at = FromMillis(*e.published_at_ms);
    obs.root = e.root;
    obs.token_group = e.token_group;
    obs.category = e.category;
    obs.has_participant_set = h.set.has_value();
    obs.participant_count = h.participants;
    if (h.set) obs.participants = std::move(*h.set);
    if (h.samples) {
      const Labels labels{{"channel", e.channel}};
      sink.Append(SeriesKey(metric::kEpochParticipants, labels),
                  Sample{obs.sealed_at, static_cast<double>(h.participants)});
      sink.Append(SeriesKey(metric::kEpochPublished, labels), Sample{obs.sealed_at, e.published ? 1.0 : 0.0});
      if (h.users) {
        sink.Append(SeriesKey(metric::kEpochParticipationUsers, labels),
                    Sample{obs.sealed_at, static_cast<double>(*h.users)});
      }
    }
    sink.RecordEpoch(std::move(obs));
  }

  // Compares the audit window (every sealed epoch whose epoch is at or after
  // `audit_start`: the newest epochs of every channel, and the participant-set horizon)
  // with what was handed over: new epochs, changed roots and published flags are handed
  // over, vanished ones become events. One metadata query; the counts only of what is new.
  void Audit(ReadTx& tx, const TableInfo& table, bool with_users, int64_t db_now, int64_t audit_start,
             int64_t sets_start, SampleSink& sink) {
    const pqxx::result rows = tx.exec_params(
        fmt::format("SELECT {} FROM sealed_epochs WHERE epoch >= $1::bigint ORDER BY sealed_at, channel, epoch",
                    EpochSelectList(table)),
        audit_start);
    std::vector<Handover> items;
    std::set<Key> present;
    for (const pqxx::row& row : rows) {
      EpochRow e = ParseEpochRow(row);
      present.insert({e.channel, e.epoch});
      auto it = reported.find({e.channel, e.epoch});
      const bool in_sets = e.epoch >= sets_start;
      if (it == reported.end()) {
        items.push_back(Handover{std::move(e), 0, std::nullopt, in_sets, true, std::nullopt});
        continue;
      }
      Reported& known_epoch = it->second;
      const bool root_changed = known_epoch.root != e.root;
      const bool published_changed = known_epoch.published.has_value() && *known_epoch.published != e.published;
      if (!known_epoch.published) known_epoch.published = e.published;
      // A new root means a new set: read it again (the data loss is in what changed).
      if (root_changed || published_changed) {
        items.push_back(Handover{std::move(e), 0, std::nullopt, in_sets && root_changed, true, std::nullopt});
      } else if (in_sets && !known_epoch.has_set) {  // recorded with its count only so far
        items.push_back(Handover{std::move(e), known_epoch.participants, std::nullopt, true, false, std::nullopt});
      }
    }
    for (auto it = reported.begin(); it != reported.end();) {
      const bool in_window = it->first.second >= audit_start;
      if (in_window && !present.contains(it->first)) {
        sink.RecordEvent(EventKind::kEpochVanished,
                         nlohmann::json{{"channel", it->first.first}, {"epoch", it->first.second}, {"root", it->second.root}}
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      it = in_window && present.contains(it->first) ? std::next(it) : reported.erase(it);
    }
    Count(tx, items, with_users, db_now - kUsersWindowSeconds);
    ReadSets(tx, items);
    // In sealed_at order, the set-only re-observations last.
    std::stable_sort(items.begin(), items.end(), [](const Handover& a, const Handover& b) {
      return std::make_tuple(!a.samples, a.row.sealed_at, a.row.channel, a.row.epoch) <
             std::make_tuple(!b.samples, b.row.sealed_at, b.row.channel, b.row.epoch);
    });
    for (Handover& h : items) {
      Record(h, sink);
      Reported& r = reported[{h.row.channel, h.row.epoch}];
      if (h.samples) {
        const bool root_changed = r.root != h.row.root;
        r.root = h.row.root;
        r.published = h.row.published;
        r.participants = h.participants;
        if (root_changed) r.has_set = false;
      }
      r.has_set = r.has_set || h.set.has_value();
    }
  }

  // Reads the next slice of history below the audit window, newest first: metadata, then
  // the counts of the epochs the store does not hold, handed over without their sets.
  void Backfill(ReadTx& tx, const TableInfo& table, int64_t db_now, SampleSink& sink, TimePoint now) {
    const int64_t horizon = HourFloor(db_now - SecondsOf(config.backfill));
    if (!backfill_floor) {
      const pqxx::row oldest = tx.exec1("SELECT min(epoch) FROM sealed_epochs");
      backfill_floor = oldest[0].is_null() ? horizon : std::max(horizon, oldest[0].as<int64_t>());
    }
    if (!backfill_done && *backfill_before > *backfill_floor) {
      const int64_t from = std::max(*backfill_floor, *backfill_before - kBackfillSliceSeconds);
      const pqxx::result rows = tx.exec_params(
          fmt::format("SELECT {} FROM sealed_epochs WHERE epoch >= $1::bigint AND epoch < $2::bigint"
                      " ORDER BY sealed_at, channel, epoch",
                      EpochSelectList(table)),
          from, *backfill_before);
      std::vector<Handover> items;
      for (const pqxx::row& row : rows) {
        EpochRow e = ParseEpochRow(row);
        if (stored.erase({e.channel, e.epoch}) > 0) continue;  // recorded by an earlier run
        items.push_back(Handover{std::move(e), 0, std::nullopt, false, true, std::nullopt});
      }
      Count(tx, items, /*with_users=*/false, 0);
      for (Handover& h : items) Record(h, sink);
      backfill_before = from;
    }
    backfill_done = *backfill_before <= *backfill_floor;
    if (backfill_done) stored.clear();
    sink.Append(SeriesKey(metric::kDbBackfillOldestEpoch, {}),
                Sample{now, static_cast<double>(std::max(*backfill_before, *backfill_floor))});
    sink.Append(SeriesKey(metric::kDbBackfillDone, {}), Sample{now, backfill_done ? 1.0 : 0.0});
  }

  // db_events_last_hour now and, on the first cycle or after a gap, at each of the ten
  // whole minutes before, counted from first_seen as the pipeline's clock stamped it: a
  // rule's `for` is judged on stored samples, so "fewer than 100 events for 5 minutes"
  // can fire on the first cycle (docs/metrics.md, "Reconstructed history"). Bounded by
  // epoch too: there is an index on epoch, none on first_seen, and a user first seen in
  // the hour before t belongs to an epoch that started at most 2 h before t.
  void EventsLastHour(ReadTx& tx, int64_t db_now, TimePoint now, SampleSink& sink) {
    constexpr int64_t kMinute = 60, kReconstructedMinutes = 10;
    const SeriesKey key(metric::kDbEventsLastHour, {});
    const int64_t interval = std::max<int64_t>(1, SecondsOf(config.interval));
    if (!events_at || db_now - *events_at > 2 * interval) {
      const int64_t last = db_now - db_now % kMinute - kMinute;
      const pqxx::result rows = tx.exec_params(
          "SELECT t, (SELECT count(*) FROM channel_participation"
          "           WHERE first_seen > t - 3600 AND first_seen <= t AND epoch >= t - 7200)"
          " FROM generate_series($1::bigint, $2::bigint, 60) AS t",
          last - (kReconstructedMinutes - 1) * kMinute, last);
      for (const pqxx::row& row : rows) {
        const TimePoint at = now - std::chrono::seconds(db_now - row[0].as<int64_t>());
        if (events_stored_until && at <= *events_stored_until) continue;
        sink.Append(key, Sample{at, row[1].as<double>()});
      }
    }
    const pqxx::row row = tx.exec_params1(
        "SELECT count(*) FROM channel_participation WHERE first_seen > $1::bigint AND epoch >= $2::bigint",
        db_now - kHourSeconds, db_now - 2 * kHourSeconds);
    sink.Append(key, Sample{now, row[0].as<double>()});
    events_at = db_now;
    events_stored_until = now;
  }

  // channel_participation_current{channel}: the distinct users so far in each channel's
  // open hour, so a drop can be confirmed by the live hour instead of an hour later
  // (docs/participant-baselines.md). No sample for a channel with no row yet: a channel
  // that is offline is not a channel at zero.
  static void OpenHourParticipation(ReadTx& tx, int64_t db_now, TimePoint now, SampleSink& sink) {
    const pqxx::result rows = tx.exec_params(
        "SELECT channel, count(DISTINCT user_hash) FROM channel_participation WHERE epoch = $1::bigint GROUP BY channel",
        HourFloor(db_now));
    for (const pqxx::row& row : rows) {
      sink.Append(SeriesKey("channel_participation_current", {{"channel", row[0].as<std::string>()}}),
                  Sample{now, row[1].as<double>()});
    }
  }

  // The cycle's queries after `SELECT 1`, in `tx`. Throws pqxx exceptions.
  void Queries(ReadTx& tx, TimePoint now, SampleSink& sink) {
    // Every cycle (one catalog query): a column dropped while connected is named at once,
    // not only when a query first needs it.
    const Schema schema = DetectSchema(tx);
    // The database's clock, not the host's: first_seen, epoch and sealed_at are stamped
    // by the pipeline next to its database, so "the last hour" and an epoch's age are
    // measured on the clock that wrote them; this monitor's clock may be skewed, and
    // `now` is the cycle's grid time, not the current instant.
    const int64_t db_now = tx.exec1("SELECT floor(extract(epoch from now()))::bigint")[0].as<int64_t>();

    const std::optional<Failure> events_failure = CheckEvents(schema);
    if (events_failure) {
      Fail(sink, *events_failure);
    } else {
      EventsLastHour(tx, db_now, now, sink);
      OpenHourParticipation(tx, db_now, now, sink);
    }

    if (auto failure = CheckEpochs(schema)) {
      Fail(sink, *failure);
      return;
    }
    // Part of the probe: waits behind a lock on the table as the pipeline's writes would.
    probe_start = std::chrono::steady_clock::now();
    const pqxx::row latest = tx.exec1("SELECT max(epoch), max(sealed_at) FROM sealed_epochs");
    probe_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - *probe_start).count();
    if (!latest[0].is_null() && !latest[1].is_null()) {
      sink.Append(SeriesKey(metric::kDbLatestEpoch, {}), Sample{now, latest[0].as<double>()});
      sink.Append(SeriesKey(metric::kDbLatestEpochAgeSeconds, {}),
                  Sample{now, static_cast<double>(db_now - latest[1].as<int64_t>())});
    }
    const int64_t sets_start = HourFloor(db_now - SecondsOf(config.participant_sets));
    const int64_t audit_start = std::min(sets_start, HourFloor(db_now - SecondsOf(kMinAuditWindow)));
    if (known) {
      for (auto& [key, k] : *known) {
        if (key.second >= audit_start) {
          reported[key] = Reported{std::move(k.root), std::nullopt, k.participants, k.has_set};
        } else {
          stored.insert(key);
        }
      }
      known.reset();
    }
    if (!backfill_before) backfill_before = audit_start;
    // epoch_participation_users needs channel_participation; without it (reported above)
    // the epochs still flow.
    const TableInfo& table = schema.Table("sealed_epochs");
    Audit(tx, table, !events_failure, db_now, audit_start, sets_start, sink);
    Backfill(tx, table, db_now, sink, now);
  }

  CycleEnd RunCycle(TimePoint now, SampleSink& sink, std::string* lost) {
    std::unique_ptr<ReadTx> tx;
    double response_seconds = 0;
    try {
      tx = std::make_unique<ReadTx>(*conn);
      const auto start = std::chrono::steady_clock::now();
      tx->exec("SELECT 1");
      response_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } catch (const std::exception& e) {
      if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr || !conn->is_open()) {
        *lost = e.what();
        return CycleEnd::kLostAtStart;
      }
      Up(sink, now, false);
      const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
      Fail(sink, sql != nullptr ? ClassifySqlState(sql->sqlstate()) : kOther, fmt::format("SELECT 1: {}", e.what()));
      return CycleEnd::kDone;
    }
    Up(sink, now, true);
    probe_start.reset();
    probe_seconds.reset();
    // The slower of `SELECT 1` and the newest-epoch read, also when that read failed (a
    // lock or statement timeout is the response time it took to fail).
    const auto respond = [&] {
      if (probe_start && !probe_seconds) {
        probe_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - *probe_start).count();
      }
      sink.Append(SeriesKey(metric::kDbResponseSeconds, {}),
                  Sample{now, std::max(response_seconds, probe_seconds.value_or(0))});
    };
    try {
      Queries(*tx, now, sink);
      tx->commit();
      respond();
      return CycleEnd::kDone;
    } catch (const pqxx::broken_connection& e) {
      respond();
      Fail(sink, kOther, fmt::format("connection lost: {}", e.what()));
      return CycleEnd::kLost;
    } catch (const pqxx::sql_error& e) {
      respond();
      const std::string_view cls = ClassifySqlState(e.sqlstate());
      std::string message = e.what();
      if (cls == kTimeout) message += fmt::format(" (statement_timeout {}ms)", config.statement_timeout.count());
      if (cls == kLocked) message += fmt::format(" (lock_timeout {}ms)", config.lock_timeout.count());
      Fail(sink, cls, message);
    } catch (const std::exception& e) {
      respond();
      Fail(sink, kOther, e.what());
    }
    return conn->is_open() ? CycleEnd::kDone : CycleEnd::kLost;
  }

  void Collect(TimePoint now, SampleSink& sink) {
    if (!url) {
      if (now < next_attempt) return BackingOff(sink, now);
      ScheduleRetry(now);
      Up(sink, now, false);
      return Fail(sink, kNoUrl, url_error.message());
    }
    if (conn && PeerClosed(conn->sock())) Drop();  // reopened below, without backoff
    const bool reused = conn != nullptr;
    if (!conn) {
      if (now < next_attempt) return BackingOff(sink, now);
      if (!Connect(now, sink)) return;
    }
    std::string lost;
    CycleEnd end = RunCycle(now, sink, &lost);
    if (end == CycleEnd::kLostAtStart && reused) {
      // The server went away since the last cycle: one fresh attempt tells why.
      Drop();
      if (!Connect(now, sink)) return;
      end = RunCycle(now, sink, &lost);
    }
    if (end == CycleEnd::kLostAtStart) {
      Drop();
      ScheduleRetry(now);
      Up(sink, now, false);
      Fail(sink, kOther, fmt::format("connection lost: {}", lost));
    } else if (end == CycleEnd::kLost) {
      Drop();  // reconnect on the next cycle
    }
  }
};

PostgresCollector::PostgresCollector(PostgresConfig config, Result<DatabaseUrl> url, KnownEpochs known,
                                     std::optional<TimePoint> events_stored_until)
    : state_(std::make_unique<State>()) {
  state_->config = std::move(config);
  if (url) {
    state_->url = std::move(*url);
    state_->conninfo = ConnInfoWithTimeout(state_->url->url, state_->config.connect_timeout);
    state_->secrets = UrlSecrets(state_->url->url);
  } else {
    state_->url_error = url.error();
  }
  state_->known = std::move(known);
  state_->events_stored_until = events_stored_until;
}

PostgresCollector::~PostgresCollector() = default;

void PostgresCollector::Collect(TimePoint now, SampleSink& sink) {
  try {
    state_->Collect(now, sink);
  } catch (const std::exception& e) {  // a bug or an allocation failure: never escapes
    state_->Drop();
    sink.CollectorFailed(kCollectorName, state_->Clean(fmt::format("other: {}", e.what())));
  } catch (...) {
    state_->Drop();
    sink.CollectorFailed(kCollectorName, "other: unknown exception");
  }
}

bool PostgresCollector::connected() const { return state_->conn != nullptr; }
int64_t PostgresCollector::connect_attempts() const { return state_->attempts; }
std::optional<TimePoint> PostgresCollector::backfilled_to() const {
  if (!state_->backfill_before) return std::nullopt;
  return FromSeconds(std::max(*state_->backfill_before, state_->backfill_floor.value_or(*state_->backfill_before)));
}
bool PostgresCollector::backfill_done() const { return state_->backfill_done; }

}  // namespace offmon::collector
