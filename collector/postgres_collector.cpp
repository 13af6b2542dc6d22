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

namespace offmon::collector {

namespace {

constexpr std::string_view kCollectorName = "postgres";

// Failure classes: the first word(s) of every CollectorFailed reason.
constexpr std::string_view kRefused = "refused";
constexpr std::string_view kAuthFailed = "auth failed";
constexpr std::string_view kTimeout = "timeout";
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

// One sealed epoch's sealed_participants row count, and (with users) the distinct users
// channel_participation saw in that (epoch, channel) before it was sealed.
constexpr const char* kCountsQuery =
    "SELECT (SELECT count(*) FROM sealed_participants WHERE epoch = $1::bigint AND channel = $2::text)";
constexpr const char* kCountsWithUsersQuery =
    "SELECT (SELECT count(*) FROM sealed_participants WHERE epoch = $1::bigint AND channel = $2::text),"
    " (SELECT count(DISTINCT user_hash) FROM channel_participation"
    "  WHERE epoch = $1::bigint AND channel = $2::text AND first_seen < $3::bigint)";
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
int64_t ToSecondsFloor(TimePoint t) {
  const int64_t ms = ToMillis(t);
  return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
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

// Appends to connection strings of either form, keeping what the URL says otherwise.
// libpq lets a later keyword override an earlier one, so ours win over the URL's.
std::string BuildConnInfo(const std::string& url, Duration connect_timeout) {
  const int64_t seconds = std::max<int64_t>(1, (connect_timeout.count() + 999) / 1000);
  const bool uri = url.starts_with("postgresql://") || url.starts_with("postgres://");
  if (uri) {
    return fmt::format("{}{}connect_timeout={}&fallback_application_name=offmon", url,
                       url.find('?') == std::string::npos ? '?' : '&', seconds);
  }
  return fmt::format("{} connect_timeout={} fallback_application_name=offmon", url, seconds);
}

}  // namespace

struct PostgresCollector::State {
  using Key = std::pair<std::string, int64_t>;  // (channel, epoch)
  // What was last handed to the sink for one epoch. `published` and `sealed_at` are
  // unknown for epochs seeded from the store's known roots until an audit reads them.
  struct Reported {
    std::string root;
    std::optional<bool> published;
    std::optional<int64_t> sealed_at;
  };
  // Work done in one cycle, against kMaxEpochsPerCycle / kMaxParticipantsPerCycle.
  struct Budget {
    size_t epochs = 0;
    size_t participants = 0;
    bool Exhausted() const {
      return epochs >= kMaxEpochsPerCycle || (epochs > 0 && participants >= kMaxParticipantsPerCycle);
    }
    // Whether one more epoch of `count` participants fits. The first epoch of a cycle
    // always does, so one larger than the cap is still read, alone.
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
  std::unique_ptr<pqxx::connection> conn;
  Duration backoff{0};
  TimePoint next_attempt{};
  int64_t attempts = 0;
  // Epochs sealed before the floor (unix seconds) and not known are history from before
  // this monitor watched; set on the first cycle when not given.
  std::optional<int64_t> floor;
  // The watermark: every epoch sealed before this second (and since the floor) has been
  // handed over; of those sealed in this very second, the ones in `reported` have.
  std::optional<int64_t> cursor;
  std::map<Key, Reported> reported;

  std::string Clean(std::string_view text) const { return ScrubSecrets(OneLine(text), secrets); }

  void Fail(SampleSink& sink, std::string_view cls, std::string_view message) const {
    sink.CollectorFailed(kCollectorName, Clean(fmt::format("{}: {}", cls, message)));
  }
  void Fail(SampleSink& sink, const Failure& f) const { Fail(sink, f.cls, f.message); }

  static void Up(SampleSink& sink, TimePoint now, bool up) {
    sink.Append(SeriesKey("db_up", {}), Sample{now, up ? 1.0 : 0.0});
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

  // Hands `e` to the sink with its participants, unless its participants do not fit in
  // what is left of the cycle's budget (false then, and nothing is recorded). The counts
  // come first, so the budget is decided before anything is read; the participants are
  // then streamed through a cursor, kParticipantsPerFetch rows at a time, so the libpq
  // result never holds a whole list next to the copy handed to the sink.
  bool HandOver(ReadTx& tx, const EpochRow& e, bool with_users, SampleSink& sink, Budget& budget) {
    const pqxx::row counts =
        with_users ? tx.exec_params1(kCountsWithUsersQuery, e.epoch, e.channel, e.sealed_at)
                   : tx.exec_params1(kCountsQuery, e.epoch, e.channel);
    const auto participant_count = counts[0].as<size_t>();
    if (!budget.Fits(participant_count)) return false;

    EpochObservation obs;
    obs.channel = e.channel;
    obs.epoch = e.epoch;
    obs.sealed_at = FromSeconds(e.sealed_at);
    obs.published = e.published;
    if (e.published_at_ms) obs.published_at = FromMillis(*e.published_at_ms);
    obs.root = e.root;
    obs.token_group = e.token_group;
    obs.category = e.category;
    if (participant_count > 0) {
      obs.participants.reserve(participant_count);
      tx.exec_params(kDeclareParticipantsQuery, e.epoch, e.channel);
      const std::string fetch = fmt::format("FETCH FORWARD {} FROM offmon_participants", kParticipantsPerFetch);
      for (;;) {
        const pqxx::result rows = tx.exec(fetch);
        for (const pqxx::row& row : rows) obs.participants.emplace_back(row[0].is_null() ? "" : row[0].c_str());
        if (rows.size() < kParticipantsPerFetch) break;
      }
      tx.exec("CLOSE offmon_participants");
    }

    const Labels labels{{"channel", e.channel}};
    sink.Append(SeriesKey("epoch_participants", labels),
                Sample{obs.sealed_at, static_cast<double>(obs.participants.size())});
    sink.Append(SeriesKey("epoch_published", labels), Sample{obs.sealed_at, e.published ? 1.0 : 0.0});
    if (with_users) {
      sink.Append(SeriesKey("epoch_participation_users", labels), Sample{obs.sealed_at, counts[1].as<double>()});
    }
    budget.participants += obs.participants.size();
    ++budget.epochs;
    sink.RecordEpoch(obs);
    reported[{e.channel, e.epoch}] = Reported{e.root, e.published, e.sealed_at};
    return true;
  }

  // Every epoch sealed at or after the cursor's second and not yet reported, in
  // (sealed_at, channel, epoch) order, within budget. `>=` with the reported set rather
  // than a strict keyset: an epoch committed later within the same second, with a
  // smaller channel, must not slip behind the watermark.
  void NewEpochs(ReadTx& tx, const TableInfo& table, bool with_users, SampleSink& sink, Budget& budget) {
    // Reported epochs of the cursor's second come back and are skipped; they must not
    // take the rows of the limit.
    const auto boundary = std::count_if(reported.begin(), reported.end(), [&](const auto& entry) {
      return !entry.second.sealed_at || *entry.second.sealed_at == *cursor;
    });
    const pqxx::result rows = tx.exec_params(
        fmt::format("SELECT {} FROM sealed_epochs WHERE sealed_at >= $1::bigint "
                    "ORDER BY sealed_at, channel, epoch LIMIT $2::bigint",
                    EpochSelectList(table)),
        *cursor, static_cast<int64_t>(kMaxEpochsPerCycle) + static_cast<int64_t>(boundary));
    for (const pqxx::row& row : rows) {
      const EpochRow e = ParseEpochRow(row);
      if (reported.count({e.channel, e.epoch}) == 0) {  // else: handed over already
        // In sealed_at order: an epoch that does not fit stops the cycle here, so the
        // watermark never passes an epoch that was not handed over.
        if (budget.Exhausted() || !HandOver(tx, e, with_users, sink, budget)) break;
      }
      // Only now, after the sink has the epoch, does the watermark move up to it.
      cursor = std::max(*cursor, e.sealed_at);
    }
  }

  // Compares the audit window with what was reported: changed roots and published flags
  // are recorded again, vanished epochs become events, and unknown epochs below the
  // cursor (committed after a cycle had passed their sealed_at) are reported late.
  void Audit(ReadTx& tx, const TableInfo& table, bool with_users, int64_t db_now, SampleSink& sink, Budget& budget) {
    const int64_t window_start = db_now - std::chrono::duration_cast<std::chrono::seconds>(kAuditWindow).count();
    const pqxx::result rows = tx.exec_params(
        fmt::format("SELECT {} FROM sealed_epochs WHERE epoch >= $1::bigint", EpochSelectList(table)),
        window_start);
    std::set<Key> present;
    for (const pqxx::row& row : rows) {
      const EpochRow e = ParseEpochRow(row);
      present.insert({e.channel, e.epoch});
      auto it = reported.find({e.channel, e.epoch});
      if (it == reported.end()) {
        const bool missed = e.sealed_at >= *floor && e.sealed_at < *cursor;
        // One that does not fit is still unreported next cycle, and found again.
        if (missed && !budget.Exhausted()) HandOver(tx, e, with_users, sink, budget);
        continue;
      }
      Reported& known = it->second;
      const bool root_changed = known.root != e.root;
      const bool published_changed = known.published.has_value() && *known.published != e.published;
      if (!known.published) known.published = e.published;
      known.sealed_at = e.sealed_at;
      // One that does not fit keeps its old root and flag, so it is found again.
      if ((root_changed || published_changed) && !budget.Exhausted()) HandOver(tx, e, with_users, sink, budget);
    }
    for (auto it = reported.begin(); it != reported.end();) {
      const bool in_window = it->first.second >= window_start;
      if (in_window && present.count(it->first) == 0) {
        sink.RecordEvent(EventKind::kEpochVanished,
                         nlohmann::json{{"channel", it->first.first}, {"epoch", it->first.second}, {"root", it->second.root}}
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      it = in_window && present.count(it->first) > 0 ? std::next(it) : reported.erase(it);
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
      // Bounded by epoch too: there is an index on epoch, none on first_seen, and a user
      // first seen in the last hour belongs to an epoch that started at most 2 h ago.
      const pqxx::row row = tx.exec_params1(
          "SELECT count(*) FROM channel_participation WHERE first_seen >= $1::bigint AND epoch >= $2::bigint",
          db_now - kHourSeconds, db_now - 2 * kHourSeconds);
      sink.Append(SeriesKey("db_events_last_hour", {}), Sample{now, row[0].as<double>()});
    }

    if (auto failure = CheckEpochs(schema)) {
      Fail(sink, *failure);
      return;
    }
    const pqxx::row latest = tx.exec1("SELECT max(epoch), max(sealed_at) FROM sealed_epochs");
    if (!latest[0].is_null() && !latest[1].is_null()) {
      sink.Append(SeriesKey("db_latest_epoch", {}), Sample{now, latest[0].as<double>()});
      sink.Append(SeriesKey("db_latest_epoch_age_seconds", {}),
                  Sample{now, static_cast<double>(db_now - latest[1].as<int64_t>())});
    }
    if (!floor) floor = db_now - std::chrono::duration_cast<std::chrono::seconds>(kFirstRunLookback).count();
    if (!cursor) cursor = *floor;
    // epoch_participation_users needs channel_participation; without it (reported above)
    // the epochs still flow.
    const bool with_users = !events_failure;
    Budget budget;
    NewEpochs(tx, schema.Table("sealed_epochs"), with_users, sink, budget);
    Audit(tx, schema.Table("sealed_epochs"), with_users, db_now, sink, budget);
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
    sink.Append(SeriesKey("db_response_seconds", {}), Sample{now, response_seconds});
    try {
      Queries(*tx, now, sink);
      tx->commit();
      return CycleEnd::kDone;
    } catch (const pqxx::broken_connection& e) {
      Fail(sink, kOther, fmt::format("connection lost: {}", e.what()));
      return CycleEnd::kLost;
    } catch (const pqxx::sql_error& e) {
      const std::string_view cls = ClassifySqlState(e.sqlstate());
      std::string message = e.what();
      if (cls == kTimeout) message += fmt::format(" (statement_timeout {}ms)", config.statement_timeout.count());
      Fail(sink, cls, message);
    } catch (const std::exception& e) {
      Fail(sink, kOther, e.what());
    }
    return conn->is_open() ? CycleEnd::kDone : CycleEnd::kLost;
  }

  void Collect(TimePoint now, SampleSink& sink) {
    if (!url) {
      if (now < next_attempt) return Up(sink, now, false);
      ScheduleRetry(now);
      Up(sink, now, false);
      return Fail(sink, kNoUrl, url_error.message());
    }
    if (conn && PeerClosed(conn->sock())) Drop();  // reopened below, without backoff
    const bool reused = conn != nullptr;
    if (!conn) {
      if (now < next_attempt) return Up(sink, now, false);  // backing off
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

PostgresCollector::PostgresCollector(PostgresConfig config, Result<DatabaseUrl> url,
                                     std::optional<TimePoint> last_sealed_at, KnownRoots known_roots)
    : state_(std::make_unique<State>()) {
  state_->config = std::move(config);
  if (url) {
    state_->url = std::move(*url);
    state_->conninfo = BuildConnInfo(state_->url->url, state_->config.connect_timeout);
    state_->secrets = UrlSecrets(state_->url->url);
  } else {
    state_->url_error = url.error();
  }
  if (last_sealed_at) {
    state_->floor = ToSecondsFloor(*last_sealed_at);
    state_->cursor = state_->floor;
  }
  for (auto& [key, root] : known_roots) {
    state_->reported[key] = State::Reported{std::move(root), std::nullopt, std::nullopt};
  }
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
std::optional<TimePoint> PostgresCollector::watermark() const {
  if (!state_->cursor) return std::nullopt;
  return FromSeconds(*state_->cursor);
}

}  // namespace offmon::collector
