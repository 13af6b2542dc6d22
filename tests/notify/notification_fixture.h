// What the outbox's delivery tests share: a store in a temp dir, [notify] with millisecond
// backoff, receivers added by name, a NotificationSender on the test's io_context (no
// threads; RunUntil drives it with a deadline), its log captured, and the transitions
// they queue. NotificationSenderTest (HTTP) and NotificationTlsTest (HTTPS) derive from it
// and start their own receivers.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "offmon/analyzer/alert.h"
#include "offmon/common/config.h"
#include "offmon/notify/notification_sender.h"
#include "offmon/store/store.h"
#include "support/temp_dir.h"

namespace offmon::notify {

inline const TimePoint kT0 = FromMillis(1'763'000'000'000);

// A CRITICAL ProcessOffline transition of `process`, active since kT0.
inline analyzer::Transition Critical(std::string process, analyzer::AlertState state, TimePoint at) {
  return {at, "ProcessOffline", analyzer::Severity::kCritical, state, {{"process", std::move(process)}},
          "", "offline",        kT0,                           ""};
}

class NotificationFixture : public ::testing::Test {
 protected:
  NotificationFixture() : log("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text)) {
    store::StoreOptions options;
    options.path = dir / "offmon.db";
    store = std::move(*store::Store::Open(options));
    notify.retry_initial = std::chrono::milliseconds(5);
    notify.retry_max = std::chrono::milliseconds(40);
    notify.timeout = std::chrono::seconds(5);
  }

  // A receiver of `type` at `url`, for the next NewSender().
  ReceiverConfig& AddReceiver(std::string name, std::string type, std::string url) {
    ReceiverConfig r;
    r.name = std::move(name);
    r.type = std::move(type);
    r.url = std::move(url);
    notify.receivers.push_back(std::move(r));
    return notify.receivers.back();
  }

  // A sender of `notify` whose retry jitter is fixed (the middle of its range).
  std::unique_ptr<NotificationSender> NewSender() {
    return std::make_unique<NotificationSender>(io, *store, notify, clock, log, [] { return 0.5; });
  }

  std::vector<store::Event> Events(EventKind kind) { return *store->ReadEvents(0, kind, 1000); }

  // Runs the loop until `done` holds; false after the deadline.
  template <typename Pred>
  bool RunUntil(Pred done, std::chrono::seconds deadline = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      io.restart();
      io.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  std::string Log() { return log_text.str(); }

  offmon::testing::TempDir dir;
  boost::asio::io_context io;
  std::ostringstream log_text;
  spdlog::logger log;
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  NotifyConfig notify;
};

}  // namespace offmon::notify
