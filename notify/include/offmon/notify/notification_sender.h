// NotificationSender: the outbox's delivery side, on the daemon's Asio loop.
//
// Queue() routes alert transitions (NotificationRouter) and appends one
// kNotificationQueued event per notification; the store is the queue, nothing waits in
// memory but the one notification each receiver is delivering. Each receiver has a lane
// that delivers its notifications one at a time in queue order: an async HTTP(S) POST
// (Boost.Beast, a timeout on every attempt; https:// certificates are verified) and then
// a kNotificationDelivered event (2xx) or a kNotificationFailed event (4xx other than
// 408/429: permanent, with the reason). 5xx, 408, 429, timeouts, connection errors and
// rejected certificates (logged once per reason) are retried forever with exponential
// backoff and jitter (RetryDelay). On construction each lane resumes after the last
// notification with an outcome, so queued ones are sent after a restart or SIGKILL:
// delivery is at least once, and receivers that dedupe by key (Alertmanager labels,
// PagerDuty dedup_key, the webhook's id) see each once.
//
// An Alertmanager receiver with `urls` (a cluster) has a lane per URL: each notification
// goes to every URL, and each lane records its own outcome (with the URL's
// DeliveryTargets() name) and resumes after its own, so one Alertmanager that is down
// holds back only itself and gets what it missed when it is back.
//
// Secrets (url, url_file content, routing_key_file content) are never logged; failures
// name the receiver, not the URL.
//
// Thread safety: the io_context's thread only (the daemon's loop thread). The store is
// used from that thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "offmon/analyzer/alert_tracker.h"
#include "offmon/notify/notification_router.h"
#include "offmon/common/config.h"
#include "offmon/common/event_kind.h"
#include "offmon/common/time.h"

namespace spdlog {
class logger;
}
namespace offmon::store {
class Store;
}

namespace offmon::notify {

// The delay before retry number `attempt` (1 after the first failure): initial * 2^(attempt-1)
// capped at max, then jittered into [d/2, d) by `unit_random` in [0, 1).
Duration RetryDelay(int attempt, Duration initial, Duration max, double unit_random);

// A uniform random number in [0, 1); tests pass a fixed one.
using UnitRandom = std::function<double()>;

class NotificationSender {
 public:
  // Restores routing state and each lane's position from the store and starts sending
  // what is pending. A receiver whose URL or key cannot be resolved (a missing url_file,
  // a ca_file OpenSSL cannot load) is logged once and its notifications stay queued.
  NotificationSender(boost::asio::io_context& io, store::Store& store, const NotifyConfig& config, const Clock& clock,
                     spdlog::logger& log, UnitRandom random = nullptr);
  ~NotificationSender();  // cancels what is in flight; it is sent again by the next sender
  NotificationSender(const NotificationSender&) = delete;
  NotificationSender& operator=(const NotificationSender&) = delete;

  // Routes one evaluation's transitions, reconciles the active set with what each
  // receiver was told (what silences, acknowledgements or a crash held back), adds
  // repeats of long-firing alerts, and queues the notifications. Silences and
  // acknowledgements recorded since the last call are read first. After a restart, the
  // resolves a crash lost are queued first (NotificationRouter::HealResolves). Returns
  // how many were queued. A store write failure (disk full, busy) is logged and the rest
  // of the batch is kept in memory and queued first by the next call, in order and
  // without routing it again (at most 10,000 kept; a restart meanwhile loses them, and
  // the next start queues what is still true).
  size_t Queue(const std::vector<analyzer::Transition>& transitions, TimePoint now,
               const std::map<std::string, analyzer::ActiveAlert>& active);

  // Lanes that are idle look for queued notifications again.
  void Wake();

  // Notifications queued and not yet delivered or failed, by receiver (for a cluster, at
  // its URL furthest behind), including those waiting to be queued after a failed write.
  std::map<std::string, int64_t> Backlog() const;

  class Lane;

 private:
  Status Restore();
  // Folds the silence and acknowledgement events written since the last call.
  Status ReadNewSuppressions();

  store::Store& store_;
  const NotifyConfig& config_;
  const Clock& clock_;
  spdlog::logger& log_;
  NotificationRouter router_;
  // Silences and acknowledgements, folded from the store; `offmon silence` / `offmon ack`
  // add them while the daemon runs, so Queue() reads the new ones.
  analyzer::Suppressions suppressions_;
  // Per kind, in the order that folds an expiry after its silence: the last event read.
  std::vector<std::pair<EventKind, int64_t>> suppression_seq_ = {
      {EventKind::kSilenceAdded, 0}, {EventKind::kSilenceExpired, 0}, {EventKind::kAlertAcknowledged, 0}};
  std::vector<std::shared_ptr<Lane>> lanes_;
  // Routed but not queued: the store refused the write. Queued first by the next Queue().
  std::vector<Notification> unwritten_;
};

}  // namespace offmon::notify
