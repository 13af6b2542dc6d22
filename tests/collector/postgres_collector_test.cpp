// PostgresCollector against a real PostgreSQL server: tools/sandbox/postgres.sh starts
// one per test process (on first use, in a temp directory, on a free loopback port) with
// the pipeline's schema; each test seeds its own database. A missing server is a test
// failure, never a skip.
#include "offmon/collector/postgres_collector.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <pqxx/pqxx>
#pragma GCC diagnostic pop

#include "support/recording_sink.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace offmon::collector {
namespace {

using offmon::testing::CommandResult;
using offmon::testing::ReadFileBytes;
using offmon::testing::RecordingSink;
using offmon::testing::RunCommand;

const std::string kScript = std::string(OFFMON_SOURCE_DIR) + "/tools/sandbox/postgres.sh";

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The sandbox server of this test process.
class Sandbox {
 public:
  // Starts the server; nullptr and `error` set when that fails.
  static std::unique_ptr<Sandbox> Start(std::string* error) {
    std::string pattern = (std::filesystem::temp_directory_path() / "offmon-pg-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      *error = "mkdtemp failed";
      return nullptr;
    }
    auto sandbox = std::unique_ptr<Sandbox>(new Sandbox(pattern));
    // The initdb result is cached beside this binary: initdb takes seconds.
    const std::string cache = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "pg-initdb-cache").string();
    CommandResult started = sandbox->Script({"start", sandbox->dir_, "--watch-pid", std::to_string(getpid()), "--initdb-cache", cache});
    if (started.exit_code != 0) {
      *error = fmt::format("{} start failed ({}): {}", kScript, started.exit_code, started.err);
      return nullptr;
    }
    sandbox->port_ = std::stoi(ReadFileBytes(sandbox->dir_ + "/port"));
    sandbox->url_ = Trimmed(ReadFileBytes(sandbox->dir_ + "/url"));
    return sandbox;
  }
  ~Sandbox() {
    Script({"stop", dir_});
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  CommandResult Script(std::vector<std::string> args) const {
    args.insert(args.begin(), kScript);
    return RunCommand(args);
  }
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  // offmon's URL (read-only role, password) for database `db`.
  std::string Url(std::string_view db) const {
    std::string url = url_;
    return url.replace(url.rfind('/') + 1, std::string::npos, db);
  }
  std::string Password() const { return UrlPassword(url_); }
  std::string SuperuserConnInfo(std::string_view db) const {
    return fmt::format("host={} port={} user=postgres dbname={}", dir_, port_, db);
  }

 private:
  explicit Sandbox(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  int port_ = 0;
  std::string url_;
};

// Owns the shared server: started by the first test that needs it, stopped when the test
// program ends, failed tests included (a watchdog covers a crash).
class PgEnvironment final : public ::testing::Environment {
 public:
  void TearDown() override { sandbox_.reset(); }
  Sandbox* Get(std::string* error) {
    if (!sandbox_ && error_.empty()) sandbox_ = Sandbox::Start(&error_);
    *error = error_;
    return sandbox_.get();
  }

 private:
  std::unique_ptr<Sandbox> sandbox_;
  std::string error_;
};

PgEnvironment* const g_pg = static_cast<PgEnvironment*>(::testing::AddGlobalTestEnvironment(new PgEnvironment));

// One database of the sandbox, written through the superuser.
class Database {
 public:
  Database(const Sandbox& sandbox, std::string name) : name_(std::move(name)), conn_(sandbox.SuperuserConnInfo(name_)) {}
  void Exec(const std::string& sql) {
    pqxx::nontransaction tx(conn_);
    tx.exec(sql);
  }
  int64_t Now() { return Query1("SELECT floor(extract(epoch from now()))::bigint"); }
  // The one bigint a query returns.
  int64_t Query1(const std::string& sql) {
    pqxx::nontransaction tx(conn_);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  // A sealed epoch with participants written in reverse idx order (reads must sort).
  void AddEpoch(const std::string& channel, int64_t epoch, const std::string& root, int64_t sealed_at, int published,
                const std::vector<std::string>& participants, bool with_token_group = true) {
    pqxx::work tx(conn_);
    if (with_token_group) {
      tx.exec_params("INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published, token_group, category) "
                     "VALUES ($1, $2, $3, $4, $5, 'MILO', 'default')",
                     epoch, channel, root, sealed_at, published);
    } else {
      tx.exec_params("INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published) VALUES ($1, $2, $3, $4, $5)",
                     epoch, channel, root, sealed_at, published);
    }
    for (size_t i = participants.size(); i-- > 0;) {
      tx.exec_params("INSERT INTO sealed_participants (epoch, channel, idx, user_hash) VALUES ($1, $2, $3, $4)", epoch,
                     channel, static_cast<int>(i), participants[i]);
    }
    tx.commit();
  }
  void AddParticipation(const std::string& channel, int64_t epoch, const std::string& user, int64_t first_seen) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("INSERT INTO channel_participation (epoch, channel, user_hash, first_seen) VALUES ($1, $2, $3, $4)",
                   epoch, channel, user, first_seen);
  }
  // Backend pids of offmon's sessions on this database.
  std::vector<int64_t> OffmonBackends() {
    pqxx::nontransaction tx(conn_);
    std::vector<int64_t> pids;
    for (const pqxx::row& row : tx.exec_params("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND "
                                               "usename = 'offmon' AND application_name = 'offmon' ORDER BY pid",
                                               name_)) {
      pids.push_back(row[0].as<int64_t>());
    }
    return pids;
  }

 private:
  std::string name_;
  pqxx::connection conn_;
};

std::vector<std::string> Hashes(std::string_view prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(fmt::format("{}-{:02}", prefix, i));
  return out;
}

TimePoint At(int64_t unix_seconds) { return FromMillis(unix_seconds * 1000); }

// Everything a sink was given, as text, to search for secrets.
std::string AllText(const RecordingSink& sink) {
  std::string text;
  for (const auto& [series, samples] : sink.samples) text += series + "\n";
  for (const auto& [collector, reason] : sink.failures) text += collector + ": " + reason + "\n";
  for (const auto& [kind, payload] : sink.events) text += payload + "\n";
  for (const auto& e : sink.epochs) text += e.channel + e.root + e.token_group + e.category + "\n";
  return text;
}

std::string Failures(const RecordingSink& sink) {
  std::string text;
  for (const auto& [collector, reason] : sink.failures) text += collector + ": " + reason + "\n";
  return text;
}

// A loopback port with nothing listening (bound, then released).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Tests that need no server (nothing listens, or nothing to connect to).
class PostgresCollectorOfflineTest : public ::testing::Test {
 protected:
  PostgresCollectorOfflineTest() { config_.connect_timeout = std::chrono::seconds(2); }
  PostgresConfig config_;
};

class PostgresCollectorTest : public PostgresCollectorOfflineTest {
 protected:
  void SetUp() override {
    std::string error;
    sandbox_ = g_pg->Get(&error);
    ASSERT_NE(sandbox_, nullptr) << error;
  }

  // A fresh database named after the test, with the schema (flag: "--old-schema" or
  // "--empty"), readable by offmon.
  std::unique_ptr<Database> NewDatabase(const std::string& flag = "") {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    name += fmt::format("_{}", databases_++);
    std::vector<std::string> args{"db", sandbox_->dir(), name};
    if (!flag.empty()) args.push_back(flag);
    CommandResult created = sandbox_->Script(args);
    EXPECT_EQ(created.exit_code, 0) << created.err;
    db_name_ = name;
    return std::make_unique<Database>(*sandbox_, name);
  }
  std::unique_ptr<PostgresCollector> Collector(PostgresCollector::KnownEpochs known = {},
                                               std::optional<TimePoint> events_stored_until = std::nullopt) {
    return std::make_unique<PostgresCollector>(config_, DatabaseUrl{sandbox_->Url(db_name_), UrlSource::kEnvironment,
                                                                    "environment variable DATABASE_URL", ""},
                                               std::move(known), events_stored_until);
  }

  Sandbox* sandbox_ = nullptr;
  std::string db_name_;
  int databases_ = 0;
};

TEST_F(PostgresCollectorTest, HealthyDatabaseGivesMetricsAndEveryEpochWithParticipants) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  // Events: first_seen in the last hour counts; older ones and ones of old epochs do not.
  for (int i = 0; i < 5; ++i) db->AddParticipation("train", hour, fmt::format("u{}", i), now - 60 * i);
  db->AddParticipation("train", hour - 3600, "early", now - 3000);
  db->AddParticipation("train", hour - 3600, "old", now - 4000);
  db->AddParticipation("train", hour - 7200, "older", now - 8000);
  // Epochs: three channels, one with no participants, one not yet published.
  db->AddEpoch("train", hour - 7200, "r-train", now - 3000, 1, Hashes("t", 3));
  db->AddEpoch("sykkuno", hour - 3600, "r-syk", now - 600, 0, Hashes("s", 12));
  db->AddEpoch("jasontheween", hour - 3600, "r-jtw", now - 900, 1, {});

  auto collector = Collector();
  RecordingSink sink;
  const TimePoint t = At(now);
  collector->Collect(t, sink);

  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  EXPECT_EQ(sink.Last("db_up"), 1);
  ASSERT_TRUE(sink.Last("db_response_seconds").has_value());
  EXPECT_GT(*sink.Last("db_response_seconds"), 0);
  EXPECT_LT(*sink.Last("db_response_seconds"), 5);
  EXPECT_EQ(sink.Last("db_events_last_hour"), 6);
  EXPECT_EQ(sink.Last("db_latest_epoch"), static_cast<double>(hour - 3600));
  ASSERT_TRUE(sink.Last("db_latest_epoch_age_seconds").has_value());
  EXPECT_GE(*sink.Last("db_latest_epoch_age_seconds"), 600);
  EXPECT_LT(*sink.Last("db_latest_epoch_age_seconds"), 660);
  EXPECT_EQ(sink.samples["db_up"].front().time, t);

  // In sealed_at order, participants in idx order, exact counts.
  ASSERT_EQ(sink.epochs.size(), 3U);
  EXPECT_EQ(sink.epochs[0].channel, "train");
  EXPECT_EQ(sink.epochs[0].participants, Hashes("t", 3));
  EXPECT_EQ(sink.epochs[0].epoch, hour - 7200);
  EXPECT_EQ(sink.epochs[0].sealed_at, At(now - 3000));
  EXPECT_EQ(sink.epochs[0].root, "r-train");
  EXPECT_TRUE(sink.epochs[0].published);
  EXPECT_EQ(sink.epochs[0].token_group, "MILO");
  EXPECT_EQ(sink.epochs[0].category, "default");
  EXPECT_EQ(sink.epochs[1].channel, "jasontheween");
  EXPECT_TRUE(sink.epochs[1].participants.empty());
  EXPECT_EQ(sink.epochs[2].channel, "sykkuno");
  EXPECT_EQ(sink.epochs[2].participants, Hashes("s", 12));
  EXPECT_FALSE(sink.epochs[2].published);
  EXPECT_FALSE(sink.epochs[2].published_at.has_value());

  // One sample per epoch at its sealed_at.
  EXPECT_EQ(sink.samples["epoch_participants{channel=\"sykkuno\"}"], (std::vector<Sample>{{At(now - 600), 12}}));
  EXPECT_EQ(sink.samples["epoch_participants{channel=\"jasontheween\"}"], (std::vector<Sample>{{At(now - 900), 0}}));
  EXPECT_EQ(sink.samples["epoch_published{channel=\"sykkuno\"}"], (std::vector<Sample>{{At(now - 600), 0}}));
  EXPECT_EQ(sink.samples["epoch_published{channel=\"train\"}"], (std::vector<Sample>{{At(now - 3000), 1}}));
  EXPECT_EQ(sink.Last("db_backfill_done"), 1);  // nothing older than the audit window

  // The next cycle reuses the one connection and repeats no epoch.
  const std::vector<int64_t> backends = db->OffmonBackends();
  ASSERT_EQ(backends.size(), 1U);
  collector->Collect(t + std::chrono::minutes(1), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  EXPECT_EQ(sink.epochs.size(), 3U);
  EXPECT_EQ(sink.samples["db_up"].size(), 2U);
  EXPECT_EQ(db->OffmonBackends(), backends);
  EXPECT_EQ(collector->connect_attempts(), 1);
  EXPECT_EQ(AllText(sink).find(sandbox_->Password()), std::string::npos);
}

// A rule's `for` is judged on stored samples: the first cycle writes the ten minutes before
// it, so "fewer than 100 events for 5 minutes" can fire at once; the open hour's
// participation per channel lets a drop be confirmed within minutes.
TEST_F(PostgresCollectorTest, FirstCycleReconstructsRecentEventsAndReadsTheOpenHour) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  int in_open_hour = 0;
  for (int i = 0; i < 20; ++i) {  // one user first seen in each of the last 20 minutes
    const int64_t seen = now - 60 * i - 30;
    db->AddParticipation("train", seen - seen % 3600, fmt::format("u{}", i), seen);
    in_open_hour += seen >= hour ? 1 : 0;
  }
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);

  std::vector<Sample> events = sink.samples["db_events_last_hour"];
  ASSERT_EQ(events.size(), 11U);  // ten reconstructed minutes, then now
  EXPECT_EQ(events.back(), (Sample{At(now), 20}));
  for (size_t i = 1; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].time - events[i - 1].time, std::chrono::minutes(1));
    EXPECT_EQ(events[i].value, events[i - 1].value + 1);  // one more user first seen each minute
  }
  EXPECT_LT(events[events.size() - 2].time, At(now));
  EXPECT_GE(events[events.size() - 2].time, At(now - 120));
  if (in_open_hour > 0) {
    EXPECT_EQ(sink.Last("channel_participation_current{channel=\"train\"}"), in_open_hour);
  }

  // Without a gap, the next cycle writes only its own sample.
  collector->Collect(At(now + 60), sink);
  EXPECT_EQ(sink.samples["db_events_last_hour"].size(), 12U);

  // A restart 3 minutes after the store's newest sample reconstructs only the time since
  // it: a stored sample is never restated (found by tools/soak.sh: a restart rewrote ten
  // stored minutes with new counts).
  auto restarted = Collector({}, At(now + 60));
  RecordingSink after_restart;
  restarted->Collect(At(now + 60 + 180), after_restart);
  const std::vector<Sample>& resumed = after_restart.samples["db_events_last_hour"];
  ASSERT_FALSE(resumed.empty());
  for (const Sample& s : resumed) EXPECT_GT(s.time, At(now + 60));
  EXPECT_LE(resumed.size(), 4U);  // at most the three minutes since, then now (not ten)
}

TEST_F(PostgresCollectorTest, NoEpochIsMissedOrRepeatedWhenManyAreSealedBetweenCycles) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  const int64_t sealed = now - 100;
  db->AddEpoch("train", hour - 3600, "r0", sealed, 1, Hashes("a", 2));
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  ASSERT_EQ(sink.epochs.size(), 1U);

  // 15 epochs sealed before the next cycle, 6 in the very second of the one reported.
  std::map<std::pair<std::string, int64_t>, int> expected;
  const std::vector<std::string> channels{"a", "train", "zeta"};
  for (int i = 0; i < 15; ++i) {
    const std::string& channel = channels[static_cast<size_t>(i) % 3];
    const int64_t epoch = hour - 3600 * (1 + i / 3) + (channel == "train" ? -3600 * 10 : 0);
    db->AddEpoch(channel, epoch, fmt::format("r{}", i + 1), i < 6 ? sealed : sealed + i, 0, Hashes(channel, i));
    expected[{channel, epoch}] = i;
  }
  collector->Collect(At(now + 60), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  ASSERT_EQ(sink.epochs.size(), 16U);
  std::map<std::pair<std::string, int64_t>, int> seen;
  for (size_t i = 1; i < sink.epochs.size(); ++i) {
    const auto& e = sink.epochs[i];
    ++seen[{e.channel, e.epoch}];
    const int want = expected[{e.channel, e.epoch}];
    EXPECT_EQ(static_cast<int>(e.participants.size()), want) << e.channel << " " << e.epoch;
    EXPECT_LE(sink.epochs[i - 1].sealed_at, e.sealed_at);  // handed over in sealed_at order
  }
  EXPECT_EQ(seen.size(), 15U);
  for (const auto& [key, n] : seen) EXPECT_EQ(n, 1) << key.first << " " << key.second;

  // A row committed late with a sealed_at the cursor has passed is still found (audit).
  db->AddEpoch("late", hour - 3600, "r-late", sealed - 50, 0, Hashes("l", 4));
  collector->Collect(At(now + 120), sink);
  ASSERT_EQ(sink.epochs.size(), 17U);
  EXPECT_EQ(sink.epochs.back().channel, "late");
  EXPECT_EQ(sink.epochs.back().participants.size(), 4U);
  collector->Collect(At(now + 180), sink);
  EXPECT_EQ(sink.epochs.size(), 17U);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
}

TEST_F(PostgresCollectorTest, CountsComeAtOnceAndSetsInBoundedBatches) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t total = static_cast<int64_t>(PostgresCollector::kMaxEpochsPerCycle) + 20;
  db->Exec(fmt::format("INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published) "
                       "SELECT {0} - 3600 * (g % 40), 'c' || (g / 40), 'r' || g, {0} - 100000 + g, 1 "
                       "FROM generate_series(1, {1}) AS g",
                       now - now % 3600, total));
  db->Exec("INSERT INTO sealed_participants (epoch, channel, idx, user_hash) "
           "SELECT epoch, channel, i, 'h' || i FROM sealed_epochs, generate_series(0, 2) AS i");
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  // Every epoch's count in the first cycle; sets up to the cycle's epoch cap.
  ASSERT_EQ(sink.epochs.size(), static_cast<size_t>(total));
  size_t samples = 0;
  for (const auto& [series, values] : sink.samples) {
    if (series.starts_with("epoch_participants{")) {
      samples += values.size();
      for (const Sample& v : values) EXPECT_EQ(v.value, 3);
    }
  }
  EXPECT_EQ(samples, static_cast<size_t>(total));
  auto with_sets = [&] {
    return std::count_if(sink.epochs.begin(), sink.epochs.end(),
                         [](const EpochObservation& e) { return e.has_participant_set; });
  };
  EXPECT_EQ(with_sets(), static_cast<int64_t>(PostgresCollector::kMaxEpochsPerCycle));
  for (const auto& e : sink.epochs) EXPECT_EQ(e.count(), 3);
  // The rest of the sets next cycle, as set-only observations (no samples again).
  collector->Collect(At(now + 60), sink);
  EXPECT_EQ(sink.epochs.size(), static_cast<size_t>(total + 20));
  EXPECT_EQ(with_sets(), total);
  std::set<std::pair<std::string, int64_t>> distinct;
  for (const auto& e : sink.epochs) {
    if (!e.has_participant_set) continue;
    distinct.insert({e.channel, e.epoch});
    EXPECT_EQ(e.participants, (std::vector<std::string>{"h0", "h1", "h2"}));
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(total));
  collector->Collect(At(now + 120), sink);
  EXPECT_EQ(sink.epochs.size(), static_cast<size_t>(total + 20));
}

TEST_F(PostgresCollectorTest, ParticipantBudgetSplitsSetsAndTakesAnOversizedSetAlone) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  const int64_t cap = static_cast<int64_t>(PostgresCollector::kMaxParticipantsPerCycle);
  // Four epochs of 2/5 of the budget each (two fit in a cycle, three do not), then one
  // larger than the whole budget, the newest. Rows go in in reverse idx order, in
  // several fetches.
  auto add = [&](const std::string& channel, int64_t sealed_at, int64_t participants) {
    db->Exec(fmt::format("INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published) "
                         "VALUES ({}, '{}', 'r', {}, 1)", hour - 3600, channel, sealed_at));
    db->Exec(fmt::format("INSERT INTO sealed_participants (epoch, channel, idx, user_hash) "
                         "SELECT {}, '{}', g, 'p' || g FROM generate_series({} - 1, 0, -1) AS g",
                         hour - 3600, channel, participants));
  };
  for (int i = 0; i < 4; ++i) add(fmt::format("c{}", i), now - 1000 + i, cap * 2 / 5);
  add("huge", now - 900, cap + cap / 5);

  auto collector = Collector();
  RecordingSink sink;
  std::vector<size_t> sets_per_cycle;
  for (int cycle = 0; cycle < 4; ++cycle) {
    const size_t before = sink.epochs.size();
    collector->Collect(At(now + 60 * cycle), sink);
    sets_per_cycle.push_back(static_cast<size_t>(std::count_if(sink.epochs.begin() + static_cast<ptrdiff_t>(before),
                                                               sink.epochs.end(),
                                                               [](const auto& e) { return e.has_participant_set; })));
  }
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  EXPECT_EQ(sets_per_cycle, (std::vector<size_t>{1, 2, 2, 0}));
  std::set<std::string> channels;
  for (const auto& e : sink.epochs) {
    SCOPED_TRACE(e.channel);
    const size_t n = static_cast<size_t>(e.channel == "huge" ? cap + cap / 5 : cap * 2 / 5);
    EXPECT_EQ(static_cast<size_t>(e.count()), n);
    // Every count in the first cycle, one sample each.
    EXPECT_EQ(sink.samples[fmt::format("epoch_participants{{channel=\"{}\"}}", e.channel)],
              (std::vector<Sample>{{e.sealed_at, static_cast<double>(n)}}));
    if (!e.has_participant_set) continue;
    EXPECT_TRUE(channels.insert(e.channel).second);
    ASSERT_EQ(e.participants.size(), n);
    for (size_t i = 0; i < n; i += 997) ASSERT_EQ(e.participants[i], fmt::format("p{}", i));
    EXPECT_EQ(e.participants.back(), fmt::format("p{}", n - 1));
  }
  EXPECT_EQ(channels.size(), 5U);
}

// Issue 14: a first run used to catch up on the last 48 h oldest first, 5,000
// participants per cycle; the audit dropped the epochs older than 48 h, so the first
// hour's epochs came back every cycle and, two of them exceeding the budget, the
// watermark never moved: the newest epochs were never read.
TEST_F(PostgresCollectorTest, FirstRunBacklogNeverStallsAndTheNewestEpochsComeFirst) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  constexpr int kHours = 50;
  constexpr int kParticipants = 3000;
  // Two channels, one epoch per hour for 50 hours, each sealed two minutes after its hour.
  db->Exec(fmt::format("INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published) "
                       "SELECT {0} - 3600 * h, c, 'r' || c || h, {0} - 3600 * h + 3720, 1 "
                       "FROM generate_series(1, {1}) AS h, unnest(ARRAY['a', 'b']) AS c "
                       "WHERE {0} - 3600 * h + 3720 <= {2}",
                       hour, kHours, now));
  db->Exec(fmt::format("INSERT INTO sealed_participants (epoch, channel, idx, user_hash) "
                       "SELECT epoch, channel, i, channel || i FROM sealed_epochs, generate_series(0, {} - 1) AS i",
                       kParticipants));
  db->Exec("ANALYZE");
  const int64_t newest = db->Query1("SELECT max(epoch) FROM sealed_epochs");
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  // The first cycle has the newest epoch of every channel, with its count.
  for (const char* channel : {"a", "b"}) {
    const auto& samples = sink.samples[fmt::format("epoch_participants{{channel=\"{}\"}}", channel)];
    ASSERT_FALSE(samples.empty()) << channel;
    EXPECT_EQ(samples.back().time, At(newest + 3720)) << channel;
    EXPECT_EQ(samples.back().value, kParticipants) << channel;
  }
  // A few more cycles give every epoch of the last 48 h once.
  for (int cycle = 1; cycle < 6; ++cycle) collector->Collect(At(now + 60 * cycle), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  for (const char* channel : {"a", "b"}) {
    const auto& samples = sink.samples[fmt::format("epoch_participants{{channel=\"{}\"}}", channel)];
    std::set<TimePoint> distinct;
    for (const Sample& s : samples) distinct.insert(s.time);
    EXPECT_EQ(distinct.size(), samples.size()) << channel << ": an epoch was handed over twice";
    for (int h = 1; h <= 48; ++h) {
      if (hour - 3600 * h + 3720 > now) continue;
      EXPECT_TRUE(distinct.contains(At(hour - 3600 * h + 3720))) << channel << " epoch " << h << " hours back";
    }
  }
}

// The backfill reads history newest first down to `backfill`, counts only below
// `participant_sets`, in bounded slices; a restart skips what the store holds and reads
// what it missed while down.
TEST_F(PostgresCollectorTest, BackfillReachesItsHorizonAndResumesAfterAGap) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  db->Exec(fmt::format("INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published) "
                       "SELECT {0} - 3600 * h, c, 'r' || c || h, {0} - 3600 * h + 3660, 1 "
                       "FROM generate_series(2, 24 * 10) AS h, unnest(ARRAY['a', 'b']) AS c",
                       hour));
  db->Exec("INSERT INTO sealed_participants (epoch, channel, idx, user_hash) "
           "SELECT epoch, channel, i, channel || i FROM sealed_epochs, generate_series(0, 4) AS i");
  config_.backfill = std::chrono::days(7);
  config_.participant_sets = std::chrono::days(3);
  auto collector = Collector();
  RecordingSink sink;
  int cycles = 0;
  while (!collector->backfill_done() && cycles < 10) collector->Collect(At(now + 60 * cycles++), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  EXPECT_LE(cycles, 3);  // 7 days: the 3-day audit window, then two 48 h slices
  const int64_t horizon = (now - 7 * 86400) - (now - 7 * 86400) % 3600;
  EXPECT_EQ(sink.Last("db_backfill_done"), 1);
  EXPECT_EQ(sink.Last("db_backfill_oldest_epoch"), horizon);
  const int64_t sets_start = (now - 3 * 86400) - (now - 3 * 86400) % 3600;
  std::set<std::pair<std::string, int64_t>> sets;
  for (const auto& e : sink.epochs) {
    EXPECT_EQ(e.count(), 5);
    if (e.has_participant_set) {
      EXPECT_TRUE(sets.insert({e.channel, e.epoch}).second);
    }
  }
  for (const char* channel : {"a", "b"}) {
    const auto& samples = sink.samples[fmt::format("epoch_participants{{channel=\"{}\"}}", channel)];
    std::set<TimePoint> times;
    for (const Sample& s : samples) times.insert(s.time);
    EXPECT_EQ(times.size(), samples.size()) << channel;
    for (int h = 2; h <= 240; ++h) {
      const int64_t epoch = hour - 3600 * h;
      EXPECT_EQ(times.contains(At(epoch + 3660)), epoch >= horizon) << channel << " " << h;
      EXPECT_EQ(sets.contains({channel, epoch}), epoch >= sets_start) << channel << " " << h;
    }
  }

  // A restart with the store missing hours 100 to 109 (offmon was down): those, and
  // only those, are read again.
  PostgresCollector::KnownEpochs known;
  for (const auto& e : sink.epochs) {
    const int64_t hours_back = (hour - e.epoch) / 3600;
    if (hours_back >= 100 && hours_back < 110) continue;
    auto& k = known[{e.channel, e.epoch}];
    k.root = e.root;
    k.participants = e.count();
    k.has_set = k.has_set || e.has_participant_set;
  }
  auto restarted = Collector(known);
  RecordingSink after;
  cycles = 0;
  while (!restarted->backfill_done() && cycles < 10) restarted->Collect(At(now + 60 * cycles++), after);
  EXPECT_TRUE(after.failures.empty()) << Failures(after);
  std::set<std::pair<std::string, int64_t>> again;
  for (const auto& e : after.epochs) again.insert({e.channel, e.epoch});
  std::set<std::pair<std::string, int64_t>> gap;
  for (int h = 100; h < 110; ++h) {
    for (const char* channel : {"a", "b"}) gap.insert({channel, hour - 3600 * h});
  }
  EXPECT_EQ(again, gap);
}

// An epoch sealed well before offmon started (within participant_sets) that later
// vanishes or changes root is caught.
TEST_F(PostgresCollectorTest, EpochSealedBeforeStartThatVanishesOrChangesIsCaught) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  db->AddEpoch("train", hour - 60 * 3600, "root-old", hour - 59 * 3600 + 60, 1, Hashes("o", 3));
  db->AddEpoch("sykkuno", hour - 60 * 3600, "root-syk", hour - 59 * 3600 + 90, 1, Hashes("s", 3));
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  ASSERT_EQ(sink.epochs.size(), 2U);
  EXPECT_TRUE(sink.epochs[0].has_participant_set);
  db->Exec(fmt::format("DELETE FROM sealed_epochs WHERE channel = 'train' AND epoch = {}", hour - 60 * 3600));
  db->Exec("UPDATE sealed_epochs SET root = 'root-syk-2' WHERE channel = 'sykkuno'");
  collector->Collect(At(now + 60), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  ASSERT_EQ(sink.events.size(), 1U);
  EXPECT_EQ(nlohmann::json::parse(sink.events[0].second)["channel"], "train");
  ASSERT_EQ(sink.epochs.size(), 3U);
  EXPECT_EQ(sink.epochs[2].root, "root-syk-2");
}

// A database whose writers hold a table lock for 700 ms is slow on the first cycle; one
// locked for longer than lock_timeout is a "locked" failure, timed, not a silent wait.
TEST_F(PostgresCollectorTest, SlowAndLockedDatabaseAreSeenOnTheFirstCycle) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  db->AddEpoch("train", now - now % 3600 - 3600, "root", now - 60, 1, Hashes("l", 2));
  db->AddParticipation("train", now - now % 3600, "u", now - 10);
  const std::string conninfo = sandbox_->SuperuserConnInfo(db_name_);
  {
    std::promise<void> locked;
    // Holds the lock 700 ms after offmon's session starts waiting for it.
    std::thread writer([&] {
      pqxx::connection c(conninfo), watcher(conninfo);
      pqxx::work tx(c);
      tx.exec("LOCK TABLE sealed_epochs IN ACCESS EXCLUSIVE MODE");
      locked.set_value();
      pqxx::nontransaction watch(watcher);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (std::chrono::steady_clock::now() < deadline &&
             watch.exec1("SELECT count(*) FROM pg_stat_activity, pg_sleep(0.01) WHERE application_name = 'offmon'"
                         " AND wait_event_type = 'Lock'")[0].as<int>() == 0) {
      }
      tx.exec("SELECT pg_sleep(0.7)");
      tx.commit();
    });
    locked.get_future().wait();
    auto collector = Collector();
    RecordingSink sink;
    collector->Collect(At(now), sink);
    writer.join();
    EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
    ASSERT_TRUE(sink.Last("db_response_seconds").has_value());
    EXPECT_GE(*sink.Last("db_response_seconds"), 0.7);
    EXPECT_EQ(sink.epochs.size(), 1U);
  }
  config_.lock_timeout = std::chrono::milliseconds(300);
  pqxx::connection c(conninfo);
  pqxx::work tx(c);
  tx.exec("LOCK TABLE sealed_epochs IN ACCESS EXCLUSIVE MODE");
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  ASSERT_EQ(sink.failures.size(), 1U);
  EXPECT_TRUE(sink.failures[0].second.starts_with("locked: ")) << sink.failures[0].second;
  EXPECT_NE(sink.failures[0].second.find("lock_timeout 300ms"), std::string::npos) << sink.failures[0].second;
  EXPECT_EQ(sink.Last("db_up"), 1);
  EXPECT_EQ(sink.Last("db_events_last_hour"), 1);  // what is not locked still flows
  ASSERT_TRUE(sink.Last("db_response_seconds").has_value());
  EXPECT_GE(*sink.Last("db_response_seconds"), 0.3);
  tx.abort();
  collector->Collect(At(now + 60), sink);
  EXPECT_EQ(sink.failures.size(), 1U) << Failures(sink);
  EXPECT_EQ(sink.epochs.size(), 1U);
}

TEST_F(PostgresCollectorTest, ParticipationUsersCountDistinctUsersFirstSeenBeforeSealing) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  const int64_t epoch = hour - 3600;
  // train: the three sealed participants were all seen before sealing; the counts agree.
  db->AddEpoch("train", epoch, "r-train", now - 500, 1, Hashes("t", 3));
  for (int i = 0; i < 3; ++i) db->AddParticipation("train", epoch, fmt::format("t-{:02}", i), now - 3000 + i);
  db->Exec(fmt::format("INSERT INTO channel_participation (epoch, channel, user_hash, first_seen, token_group) "
                       "VALUES ({}, 'train', 't-00', {}, 'OTHER')", epoch, now - 2000));  // same user, counted once
  db->AddParticipation("train", epoch, "late", now - 500);            // first seen as it was sealed
  db->AddParticipation("train", epoch, "later", now - 100);           // first seen after sealing
  db->AddParticipation("train", epoch - 3600, "t-99", now - 5000);   // another epoch
  // sykkuno: four sealed participants, two users seen before sealing; the counts differ.
  db->AddEpoch("sykkuno", epoch, "r-syk", now - 400, 1, Hashes("s", 4));
  db->AddParticipation("sykkuno", epoch, "s-00", now - 3000);
  db->AddParticipation("sykkuno", epoch, "s-01", now - 401);
  db->AddParticipation("sykkuno", epoch, "s-02", now - 399);          // after sealing
  db->AddParticipation("sykkuno", epoch - 3600, "s-03", now - 5000);  // another epoch
  // jasontheween: sealed with participants none of which channel_participation has.
  db->AddEpoch("jasontheween", epoch, "r-jtw", now - 300, 1, Hashes("j", 2));

  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  ASSERT_EQ(sink.epochs.size(), 3U);
  EXPECT_EQ(sink.samples["epoch_participation_users{channel=\"train\"}"], (std::vector<Sample>{{At(now - 500), 3}}));
  EXPECT_EQ(sink.samples["epoch_participants{channel=\"train\"}"], (std::vector<Sample>{{At(now - 500), 3}}));
  EXPECT_EQ(sink.samples["epoch_participation_users{channel=\"sykkuno\"}"], (std::vector<Sample>{{At(now - 400), 2}}));
  EXPECT_EQ(sink.samples["epoch_participants{channel=\"sykkuno\"}"], (std::vector<Sample>{{At(now - 400), 4}}));
  EXPECT_EQ(sink.samples["epoch_participation_users{channel=\"jasontheween\"}"],
            (std::vector<Sample>{{At(now - 300), 0}}));

  // Recorded again with the epoch when it is handed over again (a root rewritten).
  db->Exec("UPDATE sealed_epochs SET root = 'r-syk-2' WHERE channel = 'sykkuno'");
  collector->Collect(At(now + 60), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  EXPECT_EQ(sink.samples["epoch_participation_users{channel=\"sykkuno\"}"],
            (std::vector<Sample>{{At(now - 400), 2}, {At(now - 400), 2}}));

  // Without channel_participation.first_seen the failure names it, and epochs still flow
  // without this series.
  db->Exec("ALTER TABLE channel_participation DROP COLUMN first_seen");
  db->AddEpoch("train", epoch + 3600, "r-train-2", now - 10, 1, Hashes("t", 5));
  collector->Collect(At(now + 120), sink);
  ASSERT_EQ(sink.failures.size(), 1U) << Failures(sink);
  EXPECT_TRUE(sink.failures[0].second.starts_with("missing column: channel_participation.first_seen"))
      << sink.failures[0].second;
  ASSERT_EQ(sink.epochs.size(), 5U);
  EXPECT_EQ(sink.epochs.back().participants.size(), 5U);
  EXPECT_EQ(sink.samples["epoch_participants{channel=\"train\"}"].size(), 2U);
  EXPECT_EQ(sink.samples["epoch_participation_users{channel=\"train\"}"].size(), 1U);
}

TEST_F(PostgresCollectorTest, AuditRecordsChangedRootAndPublishedFlipAgain) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  db->AddEpoch("train", hour - 3600, "root-a", now - 500, 0, Hashes("a", 3));
  db->AddEpoch("sykkuno", hour - 3600, "root-b", now - 400, 1, Hashes("b", 2));
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  ASSERT_EQ(sink.epochs.size(), 2U);

  db->Exec(fmt::format("UPDATE sealed_epochs SET published = 1, published_at = to_timestamp({}) WHERE channel = 'train'",
                       now - 100));
  db->Exec("UPDATE sealed_epochs SET root = 'root-b-rewritten' WHERE channel = 'sykkuno'");
  db->Exec("INSERT INTO sealed_participants VALUES (" + std::to_string(hour - 3600) + ", 'sykkuno', 2, 'intruder')");
  collector->Collect(At(now + 60), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  ASSERT_EQ(sink.epochs.size(), 4U);
  std::map<std::string, EpochObservation> again;
  for (size_t i = 2; i < 4; ++i) again[sink.epochs[i].channel] = sink.epochs[i];
  EXPECT_TRUE(again["train"].published);
  EXPECT_EQ(again["train"].published_at, At(now - 100));
  EXPECT_EQ(again["train"].root, "root-a");
  // A flag changed, not the set: the count only (the store keeps the set it has).
  EXPECT_FALSE(again["train"].has_participant_set);
  EXPECT_EQ(again["train"].count(), 3);
  EXPECT_TRUE(again["sykkuno"].has_participant_set);
  EXPECT_EQ(again["sykkuno"].root, "root-b-rewritten");
  EXPECT_EQ(again["sykkuno"].participants, (std::vector<std::string>{"b-00", "b-01", "intruder"}));
  // The published series now ends with 1 at the epoch's sealed_at.
  EXPECT_EQ(sink.samples["epoch_published{channel=\"train\"}"],
            (std::vector<Sample>{{At(now - 500), 0}, {At(now - 500), 1}}));

  collector->Collect(At(now + 120), sink);  // nothing changed since
  EXPECT_EQ(sink.epochs.size(), 4U);
  EXPECT_TRUE(sink.events.empty());
}

TEST_F(PostgresCollectorTest, DeletedEpochIsReportedVanishedOnce) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  db->AddEpoch("train", hour - 3600, "root-a", now - 500, 1, Hashes("a", 3));
  db->AddEpoch("train", hour - 7200, "root-b", now - 4000, 1, Hashes("b", 3));
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  ASSERT_EQ(sink.epochs.size(), 2U);

  db->Exec(fmt::format("DELETE FROM sealed_epochs WHERE epoch = {}", hour - 3600));
  collector->Collect(At(now + 60), sink);
  collector->Collect(At(now + 120), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  ASSERT_EQ(sink.events.size(), 1U);
  EXPECT_EQ(sink.events[0].first, EventKind::kEpochVanished);
  const auto payload = nlohmann::json::parse(sink.events[0].second);
  EXPECT_EQ(payload["channel"], "train");
  EXPECT_EQ(payload["epoch"], hour - 3600);
  EXPECT_EQ(payload["root"], "root-a");
  EXPECT_EQ(sink.epochs.size(), 2U);
}

TEST_F(PostgresCollectorTest, RestartWithStoreStateNeitherRepeatsNorMissesEpochs) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  const int64_t hour = now - now % 3600;
  db->AddEpoch("a", hour - 7200, "root-a", now - 4000, 1, Hashes("a", 2));     // known, same
  db->AddEpoch("b", hour - 7200, "root-b-new", now - 3900, 1, Hashes("b", 2)); // known, root changed
  db->AddEpoch("c", hour - 3600, "root-c", now - 3900, 1, Hashes("c", 2));     // same second as b, new
  db->AddEpoch("d", hour - 3600, "root-d", now - 300, 0, Hashes("d", 2));      // sealed later, new
  PostgresCollector::KnownEpochs known{{{"a", hour - 7200}, {"root-a", 2, true}},
                                       {{"b", hour - 7200}, {"root-b-old", 2, true}},
                                       {{"e", hour - 7200}, {"root-e", 2, true}}};  // gone meanwhile
  auto collector = Collector(known);
  RecordingSink sink;
  collector->Collect(At(now), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  std::vector<std::string> channels;
  for (const auto& e : sink.epochs) channels.push_back(e.channel + ":" + e.root);
  EXPECT_EQ(channels, (std::vector<std::string>{"b:root-b-new", "c:root-c", "d:root-d"}));
  ASSERT_EQ(sink.events.size(), 1U);
  EXPECT_EQ(nlohmann::json::parse(sink.events[0].second)["channel"], "e");
}

TEST_F(PostgresCollectorTest, OldSchemaWithoutTokenGroupWorks) {
  auto db = NewDatabase("--old-schema");
  const int64_t now = db->Now();
  db->AddEpoch("train", now - now % 3600 - 3600, "root", now - 60, 1, Hashes("o", 4), /*with_token_group=*/false);
  db->AddParticipation("train", now - now % 3600, "u", now - 10);
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  EXPECT_EQ(sink.Last("db_events_last_hour"), 1);
  ASSERT_EQ(sink.epochs.size(), 1U);
  EXPECT_EQ(sink.epochs[0].token_group, "");
  EXPECT_EQ(sink.epochs[0].category, "");
  EXPECT_EQ(sink.epochs[0].participants, Hashes("o", 4));
}

TEST_F(PostgresCollectorTest, MissingColumnOrTableIsNamedAndOtherMetricsStillFlow) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  db->AddEpoch("train", now - now % 3600 - 3600, "root", now - 60, 1, Hashes("m", 2));
  db->AddParticipation("train", now - now % 3600, "u", now - 10);
  db->Exec("ALTER TABLE sealed_epochs DROP COLUMN published");
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  ASSERT_EQ(sink.failures.size(), 1U) << Failures(sink);
  EXPECT_EQ(sink.failures[0].first, "postgres");
  EXPECT_TRUE(sink.failures[0].second.starts_with("missing column: ")) << sink.failures[0].second;
  EXPECT_NE(sink.failures[0].second.find("sealed_epochs.published"), std::string::npos) << sink.failures[0].second;
  EXPECT_EQ(sink.Last("db_up"), 1);
  EXPECT_EQ(sink.Last("db_events_last_hour"), 1);
  EXPECT_FALSE(sink.Last("db_latest_epoch").has_value());
  EXPECT_TRUE(sink.epochs.empty());

  // Fixed while connected: found again on the next cycle.
  db->Exec("ALTER TABLE sealed_epochs ADD COLUMN published integer NOT NULL DEFAULT 1");
  collector->Collect(At(now + 60), sink);
  EXPECT_EQ(sink.failures.size(), 1U) << Failures(sink);
  EXPECT_EQ(sink.epochs.size(), 1U);

  db->Exec("DROP TABLE sealed_participants");
  collector->Collect(At(now + 120), sink);
  ASSERT_EQ(sink.failures.size(), 2U) << Failures(sink);
  EXPECT_TRUE(sink.failures[1].second.starts_with("missing table: sealed_participants")) << sink.failures[1].second;
}

TEST_F(PostgresCollectorTest, WrongPasswordIsAuthFailedAndNeverShown) {
  NewDatabase();
  const std::string wrong = "Wr0ngSecret77";
  const std::string real = sandbox_->Password();
  std::string url = sandbox_->Url(db_name_);
  url.replace(url.find(real), real.size(), wrong);
  const std::string keyword_form = fmt::format("host=127.0.0.1 port={} dbname={} user=offmon password='{}'",
                                               sandbox_->port(), db_name_, wrong);
  for (const std::string& candidate : {url, keyword_form}) {
    PostgresCollector collector(config_, DatabaseUrl{candidate, UrlSource::kEnvironment, "environment variable DATABASE_URL", ""});
    RecordingSink sink;
    collector.Collect(At(1'800'000'000), sink);
    ASSERT_EQ(sink.failures.size(), 1U);
    EXPECT_TRUE(sink.failures[0].second.starts_with("auth failed: ")) << sink.failures[0].second;
    EXPECT_NE(sink.failures[0].second.find("***"), std::string::npos) << sink.failures[0].second;  // redacted URL
    EXPECT_EQ(sink.failures[0].second.find('\n'), std::string::npos);
    EXPECT_EQ(sink.Last("db_up"), 0);
    const std::string text = AllText(sink);
    EXPECT_EQ(text.find(wrong), std::string::npos) << text;
    EXPECT_EQ(text.find(real), std::string::npos) << text;
    EXPECT_FALSE(collector.connected());
  }
}

TEST_F(PostgresCollectorOfflineTest, RefusedConnectionBacksOffExponentially) {
  const int port = UnusedPort();
  PostgresCollector collector(config_, DatabaseUrl{fmt::format("postgresql://offmon:pw@127.0.0.1:{}/pipeline", port),
                                                   UrlSource::kEnvironment, "test", ""});
  RecordingSink sink;
  const TimePoint t0 = At(1'800'000'000);
  collector.Collect(t0, sink);
  ASSERT_EQ(sink.failures.size(), 1U);
  EXPECT_TRUE(sink.failures[0].second.starts_with("refused: ")) << sink.failures[0].second;
  EXPECT_EQ(sink.failures[0].second.find("pw@"), std::string::npos) << sink.failures[0].second;
  EXPECT_EQ(collector.connect_attempts(), 1);

  collector.Collect(t0, sink);  // an immediate second cycle does not retry
  EXPECT_EQ(collector.connect_attempts(), 1);
  EXPECT_EQ(sink.failures.size(), 1U);
  // ... and is no success either (issue 17: "collector postgres recovered" a second after
  // each failure, collector_up 1, /healthz 200): the same reason, not a new event.
  ASSERT_EQ(sink.still_failing.size(), 1U);
  EXPECT_EQ(sink.still_failing[0], sink.failures[0]);
  EXPECT_EQ(sink.samples["db_up"], (std::vector<Sample>{{t0, 0}, {t0, 0}}));

  const TimePoint t1 = t0 + PostgresCollector::kMinBackoff;
  collector.Collect(t1, sink);
  EXPECT_EQ(collector.connect_attempts(), 2);
  collector.Collect(t1 + PostgresCollector::kMinBackoff, sink);  // the backoff doubled
  EXPECT_EQ(collector.connect_attempts(), 2);
  collector.Collect(t1 + 2 * PostgresCollector::kMinBackoff, sink);
  EXPECT_EQ(collector.connect_attempts(), 3);
  EXPECT_EQ(sink.failures.size(), 3U);
}

TEST_F(PostgresCollectorTest, StoppedServerIsRefusedThenReconnectedAfterBackoff) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  db.reset();  // the superuser session would hold up a fast shutdown
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  ASSERT_TRUE(sink.failures.empty()) << Failures(sink);

  ASSERT_EQ(sandbox_->Script({"stop", sandbox_->dir()}).exit_code, 0);
  collector->Collect(At(now + 60), sink);
  ASSERT_EQ(sink.failures.size(), 1U);
  EXPECT_TRUE(sink.failures[0].second.starts_with("refused: ")) << sink.failures[0].second;
  EXPECT_EQ(sink.Last("db_up"), 0);
  EXPECT_FALSE(collector->connected());

  const CommandResult restarted = sandbox_->Script({"start", sandbox_->dir()});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
  collector->Collect(At(now + 61), sink);  // still backing off
  EXPECT_EQ(sink.Last("db_up"), 0);
  collector->Collect(At(now + 60) + PostgresCollector::kMinBackoff, sink);
  EXPECT_EQ(sink.failures.size(), 1U) << Failures(sink);
  EXPECT_EQ(sink.Last("db_up"), 1);
  EXPECT_TRUE(collector->connected());
}

TEST_F(PostgresCollectorTest, KilledSessionIsReopenedWithinTheCycle) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  auto collector = Collector();
  RecordingSink sink;
  collector->Collect(At(now), sink);
  const std::vector<int64_t> before = db->OffmonBackends();
  ASSERT_EQ(before.size(), 1U);
  db->Exec(fmt::format("SELECT pg_terminate_backend({}, 5000)", before[0]));  // waits until it is gone
  collector->Collect(At(now + 60), sink);
  EXPECT_TRUE(sink.failures.empty()) << Failures(sink);
  EXPECT_EQ(sink.Last("db_up"), 1);
  EXPECT_EQ(collector->connect_attempts(), 2);
  const std::vector<int64_t> after = db->OffmonBackends();
  ASSERT_EQ(after.size(), 1U);
  EXPECT_NE(after[0], before[0]);
}

TEST_F(PostgresCollectorTest, SlowQueryPastStatementTimeoutFailsAndTheNextCycleRecovers) {
  auto db = NewDatabase();
  const int64_t now = db->Now();
  db->AddEpoch("train", now - now % 3600 - 3600, "root", now - 60, 1, Hashes("s", 2));
  db->Exec("ALTER TABLE sealed_epochs RENAME TO sealed_epochs_data");
  db->Exec("CREATE VIEW sealed_epochs AS SELECT d.* FROM sealed_epochs_data d, pg_sleep(2)");
  config_.statement_timeout = std::chrono::milliseconds(200);
  auto collector = Collector();
  RecordingSink sink;
  const auto start = std::chrono::steady_clock::now();
  collector->Collect(At(now), sink);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1800));
  ASSERT_EQ(sink.failures.size(), 1U);
  EXPECT_TRUE(sink.failures[0].second.starts_with("timeout: ")) << sink.failures[0].second;
  EXPECT_NE(sink.failures[0].second.find("statement timeout"), std::string::npos) << sink.failures[0].second;
  EXPECT_EQ(sink.Last("db_up"), 1);
  EXPECT_TRUE(sink.epochs.empty());

  db->Exec("CREATE OR REPLACE VIEW sealed_epochs AS SELECT d.* FROM sealed_epochs_data d");
  collector->Collect(At(now + 60), sink);
  EXPECT_EQ(sink.failures.size(), 1U) << Failures(sink);
  EXPECT_EQ(sink.epochs.size(), 1U);
  EXPECT_TRUE(collector->connected());
}

TEST_F(PostgresCollectorTest, TlsDemandedOfAPlainServerIsTlsAndNeverDowngraded) {
  NewDatabase();
  for (const char* mode : {"require", "verify-full"}) {
    PostgresCollector collector(config_, DatabaseUrl{sandbox_->Url(db_name_) + "?sslmode=" + mode, UrlSource::kEnvironment,
                                                     "test", ""});
    RecordingSink sink;
    collector.Collect(At(1'800'000'000), sink);
    ASSERT_EQ(sink.failures.size(), 1U) << mode;
    EXPECT_TRUE(sink.failures[0].second.starts_with("TLS: ")) << sink.failures[0].second;
    EXPECT_EQ(AllText(sink).find(sandbox_->Password()), std::string::npos);
  }
}

TEST_F(PostgresCollectorOfflineTest, ServerThatNeverAnswersIsTimeout) {
  // Accepted by the kernel's backlog, never answered: libpq waits for connect_timeout.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  PostgresCollector collector(config_, DatabaseUrl{fmt::format("postgresql://offmon:pw@127.0.0.1:{}/pipeline?connect_timeout=60",
                                                               ntohs(addr.sin_port)),
                                                   UrlSource::kEnvironment, "test", ""});
  RecordingSink sink;
  const auto start = std::chrono::steady_clock::now();
  collector.Collect(At(1'800'000'000), sink);
  const auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  ASSERT_EQ(sink.failures.size(), 1U);
  EXPECT_TRUE(sink.failures[0].second.starts_with("timeout: ")) << sink.failures[0].second;
  EXPECT_LT(took, std::chrono::seconds(10));  // the config's 2 s, not the URL's 60 s
}

TEST_F(PostgresCollectorOfflineTest, NoUrlIsReportedWithBackoff) {
  PostgresCollector collector(config_, Status::NotFound("DATABASE_URL is not set in the environment nor in env_file .env"));
  RecordingSink sink;
  const TimePoint t0 = At(1'800'000'000);
  collector.Collect(t0, sink);
  collector.Collect(t0 + std::chrono::seconds(1), sink);
  ASSERT_EQ(sink.failures.size(), 1U);
  EXPECT_EQ(sink.failures[0].second, "no URL: DATABASE_URL is not set in the environment nor in env_file .env");
  EXPECT_EQ(sink.still_failing, sink.failures);  // the second cycle backs off: no success
  EXPECT_EQ(sink.samples["db_up"], (std::vector<Sample>{{t0, 0}, {t0 + std::chrono::seconds(1), 0}}));
  EXPECT_EQ(collector.connect_attempts(), 0);
}

}  // namespace
}  // namespace offmon::collector
