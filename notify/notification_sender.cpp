#include "offmon/common/host_name.h"
#include "offmon/notify/notification_sender.h"

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <random>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http_poster_impl.h"
#include "offmon/common/secrets.h"
#include "offmon/notify/notification_payload.h"
#include "offmon/store/store.h"
#include "tls_client_impl.h"

namespace offmon::notify {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr size_t kEventPage = 512;
// Notifications kept in memory while the store refuses to queue them (disk full, busy).
constexpr size_t kMaxUnwritten = 10'000;
constexpr size_t kMaxReasonBytes = 200;
// Path and query pieces this long are scrubbed from receivers' error texts ("api",
// "v2", "hooks" are not secrets; tokens are long).
constexpr size_t kMinSecretPiece = 8;

bool Retryable(int status) { return status >= 500 || status == 408 || status == 429; }

bool PowerOfTwo(int n) { return n > 0 && (n & (n - 1)) == 0; }

}  // namespace

Duration RetryDelay(int attempt, Duration initial, Duration max, double unit_random) {
  Duration d = initial;
  for (int i = 1; i < attempt && d < max; ++i) d *= 2;
  d = std::min(d, max);
  const double jitter = std::clamp(unit_random, 0.0, 1.0);
  return Duration(d.count() / 2 + static_cast<int64_t>(static_cast<double>(d.count() - d.count() / 2) * jitter));
}

class NotificationSender::Lane : public std::enable_shared_from_this<Lane> {
 public:
  // `url` and `target`: one of the receiver's `urls` and its DeliveryTargets() name; both
  // empty for a receiver with `url` or `url_file`.
  Lane(asio::io_context& io, store::Store& store, const ReceiverConfig& config, std::string url, std::string target,
       const NotifyConfig& notify, const Clock& clock, spdlog::logger& log, UnitRandom random, std::string host_name)
      : io_(io),
        store_(store),
        config_(config),
        configured_url_(std::move(url)),
        target_(std::move(target)),
        who_(target_.empty() ? config.name : fmt::format("{} at {}", config.name, target_)),
        notify_(notify),
        clock_(clock),
        log_(log),
        random_(std::move(random)),
        host_name_(std::move(host_name)),
        retry_timer_(io) {}

  const std::string& name() const { return config_.name; }
  const std::string& target() const { return target_; }

  // Resolves the receiver's URL and key; on failure the lane stays idle (logged once).
  void Start(int64_t cursor, int64_t pending) {
    cursor_ = scan_ = cursor;
    pending_ = pending;
    std::string url = configured_url_.empty() ? config_.url : configured_url_;
    if (!config_.url_file.empty()) {
      auto text = ReadSecretFile(config_.url_file, "url_file");
      if (!text) return Disable(text.error().message());
      url = std::move(*text);
      if (std::string warning = SecretFileModeWarning(config_.url_file, "url_file " + config_.url_file); !warning.empty()) {
        log_.warn("notify: receiver {}: {}", who_, warning);
      }
    }
    if (url.empty() && config_.type == "pagerduty") url = "https://events.pagerduty.com/v2/enqueue";
    if (!config_.routing_key_file.empty()) {
      auto key = ReadSecretFile(config_.routing_key_file, "routing_key_file");
      if (!key) return Disable(key.error().message());
      routing_key_ = std::move(*key);
    }
    auto parsed = ParseHttpUrl(url);
    if (!parsed) return Disable(parsed.error().message());
    url_ = std::move(*parsed);
    if (url_.https) {
      auto context = NewTlsClientContext({config_.ca_file, config_.tls_insecure_skip_verify});
      if (!context) return Disable(context.error().message());
      tls_context_ = std::move(*context);
      if (config_.tls_insecure_skip_verify) {
        log_.warn("notify: receiver {}: tls_insecure_skip_verify: its certificate is NOT verified, so anyone on the "
                  "path can read and change its notifications",
                  who_);
      }
    } else if (!config_.ca_file.empty() || config_.tls_insecure_skip_verify) {
      log_.warn("notify: receiver {}: ca_file and tls_insecure_skip_verify are for https:// URLs; this one is http://",
                who_);
    }
    poster_.emplace(io_, url_, tls_context_.get(), notify_.timeout);
    // What a receiver's error text might echo: the URL, its target, and the pieces of
    // its path and query (webhook tokens), longest first; and the routing key.
    secrets_ = {url, url_.target, routing_key_};
    size_t begin = 0;
    const std::string& target = url_.target;
    while (begin < target.size()) {
      const size_t end = std::min(target.find_first_of("/?&=", begin), target.size());
      if (end - begin >= kMinSecretPiece) secrets_.push_back(target.substr(begin, end - begin));
      begin = end + 1;
    }
    std::erase_if(secrets_, [](const std::string& piece) { return piece.size() < 2; });
    std::sort(secrets_.begin(), secrets_.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    Wake();
  }

  void Wake() {
    if (busy_ || stopped_ || disabled_) return;
    busy_ = true;
    Next();
  }

  void Stop() {
    stopped_ = true;
    retry_timer_.cancel();
    if (poster_) poster_->Cancel();
  }

  void Queued(const Notification& n) {
    if (ForTarget(n, target_)) ++pending_;
  }
  int64_t pending() const { return pending_; }

 private:
  void Disable(const std::string& why) {
    disabled_ = true;
    log_.error("notify: receiver {}: not sending, notifications stay queued: {}", who_, why);
  }

  // Finds the next queued notification of this receiver after scan_.
  void Next() {
    while (true) {
      auto page = store_.ReadEvents(scan_, EventKind::kNotificationQueued, kEventPage);
      if (!page) {
        log_.error("notify: receiver {}: cannot read the outbox: {}", who_, page.error().ToString());
        busy_ = false;
        return;
      }
      if (page->empty()) {
        busy_ = false;
        return;
      }
      for (const store::Event& e : *page) {
        scan_ = e.seq;
        auto n = DecodeNotification(e.payload, e.seq);
        if (!n) {
          log_.error("notify: event {}: {}", e.seq, n.error().ToString());
          continue;
        }
        if (n->receiver != name() || !ForTarget(*n, target_)) continue;
        current_ = std::move(*n);
        attempts_ = 0;
        Attempt();
        return;
      }
    }
  }

  // One POST through the poster (resolve, connect, TLS, exchange under [notify] timeout).
  void Attempt() {
    ++attempts_;
    const HttpPost post = BuildPost(config_, url_, *current_, clock_.Now(), routing_key_, host_name_);
    http::request<http::string_body> request{http::verb::post, post.target, 11};
    request.set(http::field::user_agent, "offmon");
    request.set(http::field::content_type, "application/json");
    request.set("Idempotency-Key", current_->id);
    request.set(http::field::connection, "close");
    request.body() = post.body;
    poster_->Post(std::move(request), [self = shared_from_this()](HttpPostResult result) {
      if (self->stopped_) return;
      if (result.certificate_rejected) return self->OnCertificateRejected(result.error);
      if (result.status == 0) return self->Retry(result.error);
      self->OnResponse(result.status, std::move(result.body));
    });
  }

  void OnResponse(int status, std::string body) {
    rejection_logged_.clear();  // the certificate was accepted: a later rejection is news
    if (status >= 200 && status < 300) return Finish(true, status, "");
    std::string reason = fmt::format("HTTP {}", status);
    body.resize(std::min(body.size(), kMaxReasonBytes));
    if (!body.empty()) reason += ": " + body;
    for (const std::string& secret : secrets_) reason = ScrubSecret(std::move(reason), secret);
    if (Retryable(status)) return Retry(reason);
    Finish(false, status, reason);
  }

  // A rejected certificate is retried like a receiver that is down (a renewed
  // certificate or a fixed ca_file ends it; nothing is lost), but it is a configuration
  // problem, so it is one error line per reason instead of a warning per retry.
  void OnCertificateRejected(const std::string& reason) {
    if (reason != rejection_logged_) {
      log_.error("notify: receiver {}: {} (host {}); not delivered, notifications stay queued and are retried", who_,
                 reason, url_.host);
      rejection_logged_ = reason;
    }
    Retry(reason, /*logged=*/true);
  }

  // `logged`: the caller has logged this failure; no retry warning.
  void Retry(const std::string& reason, bool logged = false) {
    const Duration delay = RetryDelay(attempts_, notify_.retry_initial, notify_.retry_max, Random());
    if (!logged && PowerOfTwo(attempts_)) {
      log_.warn("notify: receiver {}: {} {} attempt {} failed ({}), retrying in {}", who_, current_->reason,
                current_->key, attempts_, reason, FormatDurationShort(delay));
    }
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped_) return;
      self->Attempt();
    });
  }

  void Finish(bool delivered, int status, const std::string& reason) {
    const Notification& n = *current_;
    const auto kind = delivered ? EventKind::kNotificationDelivered : EventKind::kNotificationFailed;
    const std::string payload = delivered ? EncodeDelivered(n, status, attempts_, target_)
                                          : EncodeFailed(n, status, reason, attempts_, target_);
    if (auto seq = store_.AppendEvent(kind, "notify", payload, clock_.Now()); !seq) {
      // Delivered all the same; after a restart it is sent again (at least once).
      log_.error("notify: receiver {}: cannot record the outcome of {}: {}", who_, n.id, seq.error().ToString());
    }
    if (delivered) {
      log_.info("notify: receiver {}: delivered {} {} (attempt {})", who_, n.reason, n.key, attempts_);
    } else {
      log_.error("notify: receiver {}: {} {} failed permanently: {}", who_, n.reason, n.key, reason);
    }
    cursor_ = n.seq;
    pending_ = std::max<int64_t>(0, pending_ - 1);
    current_.reset();
    asio::post(io_, [self = shared_from_this()] {
      if (self->stopped_) return;
      self->Next();
    });
  }

  double Random() {
    if (random_) return random_();
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  }

  asio::io_context& io_;
  store::Store& store_;
  const ReceiverConfig& config_;
  std::string configured_url_;  // secret; "" for url / url_file
  std::string target_;          // the DeliveryTargets() name; "" for url / url_file
  std::string who_;             // for the log: the receiver, and the target when there is one
  const NotifyConfig& notify_;
  const Clock& clock_;
  spdlog::logger& log_;
  UnitRandom random_;
  std::minstd_rand engine_{std::random_device{}()};
  std::string host_name_;
  HttpUrl url_;
  std::vector<std::string> secrets_;  // the URL and its pieces: scrubbed from error texts
  std::string routing_key_;  // secret
  asio::steady_timer retry_timer_;
  std::unique_ptr<asio::ssl::context> tls_context_;  // https:// receivers only
  std::optional<HttpPoster> poster_;                 // once Start resolved the URL
  std::string rejection_logged_;  // the certificate rejection last logged; "" after a success
  std::optional<Notification> current_;
  int64_t cursor_ = 0;  // the last queued notification with an outcome
  int64_t scan_ = 0;    // how far the outbox has been read
  int64_t pending_ = 0;
  int attempts_ = 0;
  bool busy_ = false, stopped_ = false, disabled_ = false;
};

NotificationSender::NotificationSender(asio::io_context& io, store::Store& store, const NotifyConfig& config,
                                       const Clock& clock, spdlog::logger& log, UnitRandom random)
    : store_(store), config_(config), clock_(clock), log_(log), router_(config) {
  const std::string host = HostName();
  for (const ReceiverConfig& r : config_.receivers) {
    if (r.urls.empty()) {
      lanes_.push_back(std::make_shared<Lane>(io, store, r, "", "", config_, clock, log, random, host));
      continue;
    }
    // An Alertmanager cluster: a lane per URL, each with its own queue position, so one
    // that is down holds back only itself.
    const std::vector<std::string> targets = DeliveryTargets(r);
    for (size_t i = 0; i < r.urls.size(); ++i) {
      lanes_.push_back(std::make_shared<Lane>(io, store, r, r.urls[i], targets[i], config_, clock, log, random, host));
    }
  }
  if (Status status = Restore(); !status.ok()) {
    log_.error("notify: cannot restore the outbox, not sending: {}", status.ToString());
    lanes_.clear();
  }
}

NotificationSender::~NotificationSender() {
  for (const auto& lane : lanes_) lane->Stop();
}

Status NotificationSender::Restore() {
  // Per lane: the last queued notification with an outcome for its URL. An outcome
  // without a target (recorded while the receiver had one `url`) counts for every URL.
  std::vector<int64_t> cursor(lanes_.size(), 0);
  for (EventKind kind : {EventKind::kNotificationDelivered, EventKind::kNotificationFailed}) {
    int64_t after = 0;
    while (true) {
      auto page = store_.ReadEvents(after, kind, kEventPage);
      if (!page) return page.error();
      if (page->empty()) break;
      for (const store::Event& e : *page) {
        after = e.seq;
        auto outcome = DecodeOutcome(e.payload);
        if (!outcome) continue;
        for (size_t i = 0; i < lanes_.size(); ++i) {
          if (lanes_[i]->name() != outcome->receiver || !OutcomeCounts(outcome->target, lanes_[i]->target())) continue;
          cursor[i] = std::max(cursor[i], outcome->queued_seq);
        }
      }
    }
  }
  std::vector<int64_t> pending(lanes_.size(), 0);
  int64_t after = 0;
  while (true) {
    auto page = store_.ReadEvents(after, EventKind::kNotificationQueued, kEventPage);
    if (!page) return page.error();
    if (page->empty()) break;
    for (const store::Event& e : *page) {
      after = e.seq;
      auto n = DecodeNotification(e.payload, e.seq);
      if (!n) continue;
      router_.Apply(*n);
      for (size_t i = 0; i < lanes_.size(); ++i) {
        if (lanes_[i]->name() == n->receiver && ForTarget(*n, lanes_[i]->target()) && e.seq > cursor[i]) ++pending[i];
      }
    }
  }
  if (Status status = ReadNewSuppressions(); !status.ok()) return status;
  for (size_t i = 0; i < lanes_.size(); ++i) lanes_[i]->Start(cursor[i], pending[i]);
  return Status::Ok();
}

Status NotificationSender::ReadNewSuppressions() {
  // By kind: the log's other events (sample batches) are never read for this.
  for (auto& [kind, seen] : suppression_seq_) {
    while (true) {
      auto page = store_.ReadEvents(seen, kind, kEventPage);
      if (!page) return page.error();
      if (page->empty()) break;
      for (const store::Event& e : *page) {
        seen = e.seq;
        if (Status status = suppressions_.Apply(e); !status.ok()) log_.error("notify: {}", status.ToString());
      }
    }
  }
  return Status::Ok();
}

size_t NotificationSender::Queue(const std::vector<analyzer::Transition>& transitions, TimePoint now,
                                 const std::map<std::string, analyzer::ActiveAlert>& active) {
  if (Status status = ReadNewSuppressions(); !status.ok()) {
    // Routing goes on with the silences and acknowledgements known so far.
    log_.error("notify: cannot read silences and acknowledgements: {}", status.ToString());
  }
  // After a restart, the resolves a crash lost come before this evaluation's news.
  std::vector<Notification> batch = router_.HealResolves(now, active);
  for (Notification& n : router_.Route(transitions, suppressions_)) batch.push_back(std::move(n));
  for (Notification& n : router_.Reconcile(now, active, suppressions_)) batch.push_back(std::move(n));
  for (Notification& n : router_.Repeats(now, active, suppressions_)) batch.push_back(std::move(n));
  // Those a failed write left over go first, in their order; they were routed already.
  if (!unwritten_.empty()) {
    batch.insert(batch.begin(), std::make_move_iterator(unwritten_.begin()), std::make_move_iterator(unwritten_.end()));
    unwritten_.clear();
  }
  size_t queued = 0;
  for (const Notification& n : batch) {
    auto seq = store_.AppendEvent(EventKind::kNotificationQueued, "notify", EncodeNotification(n), now);
    if (!seq) {
      log_.error("notify: cannot queue {} notification(s), retrying at the next evaluation: {}", batch.size() - queued,
                 seq.error().ToString());
      break;
    }
    ++queued;
    for (const auto& lane : lanes_) {
      if (lane->name() == n.receiver) lane->Queued(n);
    }
  }
  if (queued < batch.size()) {
    unwritten_.assign(std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(queued)),
                      std::make_move_iterator(batch.end()));
    if (unwritten_.size() > kMaxUnwritten) {
      // A store that has refused writes for very long: the oldest go. A restart sends what
      // is still true (Reconcile, HealResolves); only the history between is lost.
      log_.error("notify: {} notifications could not be queued and are dropped", unwritten_.size() - kMaxUnwritten);
      unwritten_.erase(unwritten_.begin(),
                       unwritten_.begin() + static_cast<std::ptrdiff_t>(unwritten_.size() - kMaxUnwritten));
    }
  }
  Wake();
  return queued;
}

void NotificationSender::Wake() {
  for (const auto& lane : lanes_) lane->Wake();
}

std::map<std::string, int64_t> NotificationSender::Backlog() const {
  std::map<std::string, int64_t> out;
  // A receiver with several URLs: its URL furthest behind.
  for (const auto& lane : lanes_) out[lane->name()] = std::max(out[lane->name()], lane->pending());
  for (const Notification& n : unwritten_) ++out[n.receiver];
  return out;
}

}  // namespace offmon::notify
