// https:// receivers: certificate verification against a CA the test creates (with the
// openssl CLI, in a temp dir) and a loopback HTTPS receiver on the test's io_context.
// Conditions are awaited with deadlines; retries use millisecond backoff.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "notify/notification_fixture.h"
#include "offmon/daemon/commands.h"
#include "offmon/notify/notification.h"
#include "offmon/notify/notification_sender.h"
#include "offmon/notify/remote_write_sender.h"
#include "offmon/store/store.h"
#include "support/https_receiver.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace offmon::notify {
namespace {

using analyzer::AlertState;
using analyzer::Severity;
using analyzer::Transition;

size_t Count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
  return n;
}

// Runs the openssl CLI (Debian's openssl package, which tools/setup.sh installs); a
// failure fails the test setup.
void OpenSsl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  testing::CommandResult result = testing::RunCommand(args);
  ASSERT_EQ(result.exit_code, 0) << args[1] << ": " << result.err;
}

// A CA (NAME.pem, NAME.key) in `dir`.
void MakeCa(const testing::TempDir& dir, const std::string& name) {
  OpenSsl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
           "-subj", "/CN=offmon test " + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign", "-keyout", (dir / (name + ".key")).string(), "-out",
           (dir / (name + ".pem")).string()});
}

// A server certificate NAME.pem (and NAME.key) for `san` ("IP:127.0.0.1,DNS:localhost"),
// issued by the CA `ca`.
void MakeServerCertificate(const testing::TempDir& dir, const std::string& name, const std::string& ca,
                           const std::string& san) {
  const std::string csr = (dir / (name + ".csr")).string();
  OpenSsl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + name,
           "-keyout", (dir / (name + ".key")).string(), "-out", csr});
  testing::WriteFileBytes(dir / (name + ".ext"), "subjectAltName=" + san + "\n");
  OpenSsl({"x509", "-req", "-in", csr, "-CA", (dir / (ca + ".pem")).string(), "-CAkey", (dir / (ca + ".key")).string(),
           "-CAcreateserial", "-days", "2", "-extfile", (dir / (name + ".ext")).string(), "-out",
           (dir / (name + ".pem")).string()});
}

// A CA and a server certificate for 127.0.0.1 and localhost, made for each test.
class NotificationTlsTest : public NotificationFixture {
 protected:
  void SetUp() override {
    MakeCa(dir, "ca");
    MakeServerCertificate(dir, "server", "ca", "IP:127.0.0.1,DNS:localhost");
  }

  // A receiver with the server certificate `cert` (server.pem unless told).
  testing::HttpsReceiver& StartReceiver(const std::string& cert = "server") {
    receiver = std::make_unique<testing::HttpsReceiver>(io, dir / (cert + ".pem"), dir / (cert + ".key"));
    return *receiver;
  }

  // A webhook receiver at `url`.
  ReceiverConfig& AddReceiver(std::string name, std::string url) {
    return NotificationFixture::AddReceiver(std::move(name), "webhook", std::move(url));
  }

  std::string CaFile() const { return (dir / "ca.pem").string(); }

  std::unique_ptr<testing::HttpsReceiver> receiver;
};

TEST_F(NotificationTlsTest, TrustedThroughCaFileIsDeliveredOverTlsByAddressAndByName) {
  StartReceiver();
  AddReceiver("ip", receiver->url("127.0.0.1", "/hook/secret-token")).ca_file = CaFile();
  AddReceiver("name", receiver->url("localhost", "/hook/secret-token")).ca_file = CaFile();
  auto sender = NewSender();
  ASSERT_EQ(sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {}), 2u);
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 2; })) << Log();
  ASSERT_EQ(receiver->requests().size(), 2u);
  std::set<std::string> server_names;
  for (const testing::ReceivedTlsRequest& request : receiver->requests()) {
    EXPECT_EQ(request.target, "/hook/secret-token");
    EXPECT_EQ(nlohmann::json::parse(request.body)["labels"]["process"], "w1");
    server_names.insert(request.server_name);
  }
  // SNI for the name, none for the address (RFC 6066).
  EXPECT_EQ(server_names, (std::set<std::string>{"", "localhost"}));
  EXPECT_TRUE(Events(EventKind::kNotificationFailed).empty());
  EXPECT_EQ(receiver->failed_handshakes(), 0);
  EXPECT_EQ(Log().find("secret-token"), std::string::npos) << Log();
}

TEST_F(NotificationTlsTest, UntrustedCertificateKeepsTheQueueLogsOnceAndIsDeliveredOnceTrusted) {
  StartReceiver();
  AddReceiver("hook", receiver->url("127.0.0.1", "/hook/secret-token"));  // the system store: no test CA
  {
    auto sender = NewSender();
    sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
    // Several attempts, each rejected by the client.
    ASSERT_TRUE(RunUntil([&] { return receiver->failed_handshakes() >= 4; })) << Log();
    EXPECT_EQ(sender->Backlog().at("hook"), 1);
  }
  EXPECT_TRUE(receiver->requests().empty());
  EXPECT_TRUE(Events(EventKind::kNotificationDelivered).empty());
  EXPECT_TRUE(Events(EventKind::kNotificationFailed).empty());
  EXPECT_EQ(Count(Log(), "certificate verify failed"), 1u) << Log();
  EXPECT_NE(Log().find("receiver hook: certificate verify failed: unable to get local issuer certificate (host "
                       "127.0.0.1); not delivered, notifications stay queued"),
            std::string::npos)
      << Log();
  EXPECT_EQ(Log().find("retrying in"), std::string::npos) << "one line, not one per retry:\n" << Log();

  // Trusting the CA delivers what stayed queued: nothing was lost.
  notify.receivers[0].ca_file = CaFile();
  auto sender = NewSender();
  EXPECT_EQ(sender->Backlog().at("hook"), 1);
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
  ASSERT_EQ(receiver->requests().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(receiver->requests()[0].body)["labels"]["process"], "w1");
  EXPECT_EQ(Log().find("secret-token"), std::string::npos) << Log();
}

TEST_F(NotificationTlsTest, CertificateForAnotherHostIsRejected) {
  MakeServerCertificate(dir, "other", "ca", "DNS:other.example");
  StartReceiver("other");
  AddReceiver("ip", receiver->url("127.0.0.1")).ca_file = CaFile();
  AddReceiver("name", receiver->url("localhost")).ca_file = CaFile();
  auto sender = NewSender();
  sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
  ASSERT_TRUE(RunUntil([&] {
    return Log().find("receiver ip: certificate verify failed: IP address mismatch") != std::string::npos &&
           Log().find("receiver name: certificate verify failed: hostname mismatch") != std::string::npos &&
           receiver->failed_handshakes() >= 6;
  })) << Log();
  EXPECT_TRUE(receiver->requests().empty());
  EXPECT_TRUE(Events(EventKind::kNotificationDelivered).empty());
  EXPECT_TRUE(Events(EventKind::kNotificationFailed).empty());
  EXPECT_EQ(sender->Backlog().at("ip"), 1);
  EXPECT_EQ(sender->Backlog().at("name"), 1);
  EXPECT_EQ(Count(Log(), "certificate verify failed"), 2u) << Log();
}

TEST_F(NotificationTlsTest, InsecureSkipVerifyDeliversToAnUntrustedReceiverAndWarns) {
  MakeCa(dir, "unknown-ca");
  MakeServerCertificate(dir, "untrusted", "unknown-ca", "DNS:other.example");
  StartReceiver("untrusted");
  AddReceiver("hook", receiver->url("127.0.0.1", "/hook/secret-token")).tls_insecure_skip_verify = true;
  auto sender = NewSender();
  EXPECT_NE(Log().find("[warning] notify: receiver hook: tls_insecure_skip_verify: its certificate is NOT verified"),
            std::string::npos)
      << Log();
  sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
  ASSERT_EQ(receiver->requests().size(), 1u);
  EXPECT_EQ(Log().find("secret-token"), std::string::npos) << Log();
}

TEST_F(NotificationTlsTest, ABodyEndedByClosingWithoutCloseNotifyIsDelivered) {
  StartReceiver().EndBodyByClosing(true);
  AddReceiver("hook", receiver->url()).ca_file = CaFile();
  auto sender = NewSender();
  sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
  EXPECT_EQ(receiver->requests().size(), 1u);
  EXPECT_EQ(notify::DecodeOutcome(Events(EventKind::kNotificationDelivered)[0].payload)->attempts, 1);
}

TEST_F(NotificationTlsTest, ASilentServerTimesOutDuringTheHandshake) {
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  boost::asio::ip::tcp::socket held(io);
  silent.async_accept(held, [](const boost::system::error_code&) {});  // accepts, never answers
  notify.timeout = std::chrono::seconds(1);
  AddReceiver("hook", "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/hook");
  auto sender = NewSender();
  sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
  ASSERT_TRUE(RunUntil([&] { return Log().find("attempt 1 failed (timed out after 1s)") != std::string::npos; }))
      << Log();
  EXPECT_TRUE(Events(EventKind::kNotificationDelivered).empty());
  EXPECT_EQ(sender->Backlog().at("hook"), 1);
}

// Remote write takes the same TLS client: a receiver whose certificate does not verify
// gets nothing and the cursor stays; once its CA is trusted everything pending is sent.
TEST_F(NotificationTlsTest, RemoteWriteVerifiesTheCertificateAndSendsWhatWaitedOnceTrusted) {
  StartReceiver();
  {
    auto appender = store->NewAppender("collect:test");
    auto id = appender->Ref(SeriesKey("cpu", {}));
    ASSERT_TRUE(id.has_value());
    appender->Add(*id, kT0, 42);
    ASSERT_TRUE(appender->Commit(kT0).ok());
  }
  RemoteWriteConfig rw;
  rw.name = "central";
  rw.url = receiver->url("127.0.0.1", "/api/v1/write");
  rw.min_backoff = std::chrono::milliseconds(5);
  rw.max_backoff = std::chrono::milliseconds(20);
  rw.timeout = std::chrono::seconds(5);
  std::vector<RemoteWriteConfig> config{rw};  // the sender keeps a reference, as the daemon's config
  auto pending = [&] { return store->RemoteWriteCursors(clock.Now())->at(0).pending_events; };
  {
    auto sender = RemoteWriteSender::Create(io, *store, config, clock, log);  // the system store: no test CA
    ASSERT_TRUE(sender.has_value()) << sender.error().ToString();
    ASSERT_TRUE(RunUntil([&] { return receiver->failed_handshakes() >= 3; })) << Log();
  }
  EXPECT_TRUE(receiver->requests().empty());
  EXPECT_GT(pending(), 0);
  EXPECT_NE(Log().find("certificate verify failed"), std::string::npos) << Log();

  config[0].ca_file = CaFile();
  auto sender = RemoteWriteSender::Create(io, *store, config, clock, log);
  ASSERT_TRUE(sender.has_value()) << sender.error().ToString();
  ASSERT_TRUE(RunUntil([&] { return pending() == 0; })) << Log();
  ASSERT_EQ(receiver->requests().size(), 1u);
  EXPECT_EQ(receiver->requests()[0].target, "/api/v1/write");
}

// ---- [notify.receivers.X] ca_file and tls_insecure_skip_verify ----

TEST_F(NotificationTlsTest, MissingCaFileIsAOneLineConfigError) {
  const std::string missing = (dir / "missing.pem").string();
  auto config = ParseConfig(
      "[notify.receivers.x]\ntype = \"webhook\"\nurl = \"https://h/secret-token\"\nca_file = \"" + missing + "\"\n",
      "t.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().message(),
            "t.toml:4: [notify.receivers.x] ca_file: " + missing + ": cannot read (No such file or directory)");
  testing::WriteFileBytes(dir / "not-a-cert.pem", "hello\n");
  auto not_pem = ParseConfig("[notify.receivers.x]\ntype = \"webhook\"\nurl = \"https://h/\"\nca_file = \"" +
                                 (dir / "not-a-cert.pem").string() + "\"\n",
                             "t.toml");
  ASSERT_FALSE(not_pem.has_value());
  EXPECT_NE(not_pem.error().message().find("no PEM certificate in it"), std::string::npos);
  auto both = ParseConfig("[notify.receivers.x]\ntype = \"webhook\"\nurl = \"https://h/\"\nca_file = \"" + CaFile() +
                              "\"\ntls_insecure_skip_verify = true\n",
                          "t.toml");
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error().message(),
            "t.toml:1: [notify.receivers.x] ca_file: not with tls_insecure_skip_verify = true (nothing is verified)");
  auto not_bool =
      ParseConfig("[notify.receivers.x]\ntype = \"webhook\"\nurl = \"https://h/\"\ntls_insecure_skip_verify = \"yes\"\n",
                  "t.toml");
  ASSERT_FALSE(not_bool.has_value());
  EXPECT_EQ(not_bool.error().message(), "t.toml:4: [notify.receivers.x] tls_insecure_skip_verify: expected true or false");
  for (const auto* result : {&config, &not_pem, &both, &not_bool}) {
    EXPECT_EQ(result->error().message().find('\n'), std::string::npos);
    EXPECT_EQ(result->error().message().find("secret-token"), std::string::npos);
  }
}

TEST_F(NotificationTlsTest, ConfigCheckShowsHowEachHttpsReceiverIsVerified) {
  testing::WriteFileBytes(dir / "url", "  https://hooks.example/T0/secret-token\n");
  testing::WriteFileBytes(dir / "pd-key", "secret-key\n");
  testing::WriteFileBytes(dir / "offmon.toml", R"([notify.receivers.private]
type = "webhook"
url = "https://hooks.internal:8443/secret-token"
ca_file = ")" + CaFile() + R"("

[notify.receivers.public]
type = "slack"
url_file = ")" + (dir / "url").string() + R"("

[notify.receivers.pager]
type = "pagerduty"
routing_key_file = ")" + (dir / "pd-key").string() + R"("

[notify.receivers.lab]
type = "webhook"
url = "https://lab.example/secret-token"
tls_insecure_skip_verify = true

[notify.receivers.plain]
type = "webhook"
url = "http://127.0.0.1:9000/secret-token"
)");
  CliContext ctx;
  std::ostringstream out, err;
  ctx.out = &out;
  ctx.err = &err;
  CLI::App app;
  daemon::AddConfigCommand(app, ctx);  // `offmon config check` (the daemon module's command)
  std::vector<std::string> reversed_args{(dir / "offmon.toml").string(), "check", "config"};  // as CLI11 takes them
  app.parse(reversed_args);
  ASSERT_EQ(ctx.exit_code, kExitOk) << err.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("notify: private (webhook) https://hooks.internal:8443/***, WARNING and above on escalated, "
                      "resolved; tls: verified (ca_file " +
                      CaFile() + ")\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("notify: public (slack) url from url_file " + (dir / "url").string() +
                      ", WARNING and above on escalated, resolved; tls: verified (system CA)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("notify: pager (pagerduty) the default URL, WARNING and above on escalated, resolved; tls: "
                      "verified (system CA)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("notify: lab (webhook) https://lab.example/***, WARNING and above on escalated, resolved; tls: "
                      "NOT VERIFIED (tls_insecure_skip_verify)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("notify: plain (webhook) http://127.0.0.1:9000/***, WARNING and above on escalated, resolved\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("http: listening on 127.0.0.1:9470 (/metrics, /healthz, /api/report), up to 256 connections\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
}

}  // namespace
}  // namespace offmon::notify
