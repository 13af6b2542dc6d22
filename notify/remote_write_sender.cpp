#include "offmon/common/host_name.h"
#include "offmon/notify/remote_write_sender.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "http_poster_impl.h"
#include "offmon/common/secrets.h"
#include "offmon/notify/notification_payload.h"
#include "offmon/notify/notification_sender.h"
#include "offmon/notify/remote_write_encoder.h"
#include "offmon/store/store.h"
#include "tls_client_impl.h"

namespace offmon::notify {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

std::string Base64(std::string_view text) {
  std::string out(boost::beast::detail::base64::encoded_size(text.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), text.data(), text.size()));
  return out;
}

// Retry-After in seconds (the HTTP-date form is rare from metric receivers: ignored).
std::optional<Duration> RetryAfter(std::string_view header) {
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec != std::errc() || end != header.data() + header.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(std::min<int64_t>(seconds, 3600));
}

// Prometheus answers 400 "out of bounds" for samples older than its head accepts, and
// "too old" with out-of-order ingestion on.
bool TooOld(std::string_view body) {
  return body.find("out of bounds") != std::string_view::npos || body.find("too old") != std::string_view::npos;
}

}  // namespace

class RemoteWriteSender::Endpoint : public std::enable_shared_from_this<Endpoint> {
 public:
  Endpoint(asio::io_context& io, store::Store& store, const RemoteWriteConfig& config, const Clock& clock,
           spdlog::logger& log)
      : io_(io), store_(store), config_(config), clock_(clock), log_(log), retry_timer_(io) {
    stats_.endpoint = config.name;
  }

  const std::string& name() const { return config_.name; }
  const RemoteWriteStats& stats() const { return stats_; }

  Status Init() {
    auto fail = [&](const std::string& why) {
      return Status::InvalidArgument(fmt::format("[remote_write.{}] {}", name(), why));
    };
    auto url = ParseHttpUrl(config_.url);
    if (!url) return fail("url: " + url.error().message());
    secrets_.push_back(config_.url);
    if (!config_.password_file.empty()) {
      auto password = ReadSecretFile(config_.password_file, "password_file");
      if (!password) return fail(password.error().message());
      authorization_ = "Basic " + Base64(config_.username + ":" + *password);
      secrets_.push_back(*password);
    } else if (!config_.bearer_token_file.empty()) {
      auto token = ReadSecretFile(config_.bearer_token_file, "bearer_token_file");
      if (!token) return fail(token.error().message());
      authorization_ = "Bearer " + *token;
      secrets_.push_back(*token);
    }
    for (const std::string* file : {&config_.password_file, &config_.bearer_token_file}) {
      if (std::string warning = SecretFileModeWarning(*file, *file); !file->empty() && !warning.empty()) {
        log_.warn("remote_write: {}: {}", name(), warning);
      }
    }
    if (url->https) {
      auto context = NewTlsClientContext({config_.ca_file, config_.tls_insecure_skip_verify});
      if (!context) return fail(context.error().message());
      tls_ = std::move(*context);
      if (config_.tls_insecure_skip_verify) {
        log_.warn("remote_write: {}: tls_insecure_skip_verify: the receiver's certificate is NOT verified", name());
      }
    }
    target_ = url->target;
    host_ = url->host;
    poster_.emplace(io_, std::move(*url), tls_.get(), config_.timeout);
    external_ = config_.external_labels;
    if (std::none_of(external_.begin(), external_.end(), [](const auto& l) { return l.first == "instance"; })) {
      external_.emplace_back("instance", HostName());
    }
    auto cursor = store_.OpenRemoteWriteCursor(name(), clock_.Now());
    if (!cursor) return cursor.error();
    cursor_ = *cursor;
    return Status::Ok();
  }

  void Wake() {
    if (busy_ || stopped_) return;
    busy_ = true;
    Next();
  }

  void Stop() {
    stopped_ = true;
    retry_timer_.cancel();
    if (poster_) poster_->Cancel();
  }

 private:
  // Reads the next batch after the cursor and sends its first request.
  void Next() {
    if (acknowledged_ > cursor_ && !SaveCursor()) return Backoff("cannot record the cursor");
    auto events = store_.ReadForwardEvents(cursor_, static_cast<size_t>(config_.max_samples_per_send));
    if (!events) {
      log_.error("remote_write: {}: cannot read the event log: {}", name(), events.error().ToString());
      busy_ = false;
      return;
    }
    if (events->empty()) {
      busy_ = false;
      return;
    }
    requests_.clear();
    next_request_ = 0;
    batch_end_ = events->back().seq;
    std::vector<std::pair<store::SeriesId, Sample>> flat;
    for (store::ForwardEvent& e : *events) {
      if (e.kind == EventKind::kRemoteWriteGap) NoteGap(e);
      flat.insert(flat.end(), e.samples.begin(), e.samples.end());
    }
    const size_t per_request = static_cast<size_t>(config_.max_samples_per_send);
    for (size_t begin = 0; begin < flat.size(); begin += per_request) {
      auto request = BuildRequest(std::span(flat).subspan(begin, std::min(per_request, flat.size() - begin)));
      if (!request) {
        log_.error("remote_write: {}: {}", name(), request.error().ToString());
        busy_ = false;
        return;
      }
      requests_.push_back(std::move(*request));
    }
    SendOrAdvance();
  }

  void NoteGap(const store::ForwardEvent& e) {
    auto gap = nlohmann::json::parse(e.payload, nullptr, /*allow_exceptions=*/false);
    if (gap.is_discarded() || gap.value("endpoint", "") != name()) return;
    const int64_t samples = gap.value("samples", int64_t{0});
    stats_.samples_dropped_total["retention"] += samples;
    log_.error("remote_write: {}: GAP: retention deleted {} sample events ({} samples, events {}..{}) before they were "
               "sent; the receiver will never have them",
               name(), gap.value("events", int64_t{0}), samples, gap.value("first_seq", int64_t{0}),
               gap.value("through_seq", int64_t{0}));
  }

  struct Request {
    std::string body;
    int64_t samples = 0;
  };

  Result<Request> BuildRequest(std::span<const std::pair<store::SeriesId, Sample>> samples) {
    std::unordered_map<store::SeriesId, size_t> index;
    std::vector<RemoteWriteSeries> series;
    for (const auto& [id, sample] : samples) {
      auto [it, fresh] = index.try_emplace(id, series.size());
      if (fresh) {
        auto labels = SeriesOf(id);
        if (!labels) return labels.error();
        series.push_back(**labels);
      }
      series[it->second].samples.push_back(sample);
    }
    for (RemoteWriteSeries& s : series) {
      std::stable_sort(s.samples.begin(), s.samples.end(),
                       [](const Sample& a, const Sample& b) { return a.time < b.time; });
    }
    return Request{EncodeWriteRequest(series), static_cast<int64_t>(samples.size())};
  }

  // The series' name and labels with the external labels merged in, cached.
  Result<const RemoteWriteSeries*> SeriesOf(store::SeriesId id) {
    if (auto it = series_.find(id); it != series_.end()) return &it->second;
    auto key = store_.SeriesKeyOf(id);
    if (!key) return key.error();
    RemoteWriteSeries s{key->name, {}, {}};
    for (const Label& l : key->labels) {
      if (std::none_of(external_.begin(), external_.end(), [&](const auto& e) { return e.first == l.name; })) {
        s.labels.push_back(l);
      }
    }
    for (const auto& [label, value] : external_) s.labels.push_back({label, value});
    return &series_.emplace(id, std::move(s)).first->second;
  }

  void SendOrAdvance() {
    if (next_request_ >= requests_.size()) {
      acknowledged_ = batch_end_;
      if (!SaveCursor()) return Backoff("cannot record the cursor");
      attempts_ = 0;
      return asio::post(io_, [self = shared_from_this()] {
        if (!self->stopped_) self->Next();
      });
    }
    http::request<http::string_body> request{http::verb::post, target_, 11};
    request.set(http::field::user_agent, "offmon/" OFFMON_VERSION_STRING);
    request.set(http::field::content_type, "application/x-protobuf");
    request.set(http::field::content_encoding, "snappy");
    request.set("X-Prometheus-Remote-Write-Version", "0.1.0");
    request.set(http::field::connection, "close");
    if (!authorization_.empty()) request.set(http::field::authorization, authorization_);
    request.body() = requests_[next_request_].body;
    ++attempts_;
    poster_->Post(std::move(request), [self = shared_from_this()](HttpPostResult result) {
      if (!self->stopped_) self->OnResult(std::move(result));
    });
  }

  void OnResult(HttpPostResult result) {
    const int64_t samples = requests_[next_request_].samples;
    if (result.status >= 200 && result.status < 300) {
      stats_.samples_sent_total += samples;
      if (attempts_ > 1) log_.info("remote_write: {}: sending again after {} attempts", name(), attempts_);
      attempts_ = 0;
      ++next_request_;
      return SendOrAdvance();
    }
    std::string reason = result.status != 0 ? fmt::format("HTTP {}: {}", result.status, result.body) : result.error;
    reason = ScrubSecrets(std::move(reason), secrets_);
    if (result.status == 0 || result.status >= 500 || result.status == 429) {
      return Backoff(reason, RetryAfter(result.retry_after));
    }
    const std::string why = TooOld(result.body) ? "too_old" : "rejected";
    stats_.samples_dropped_total[why] += samples;
    log_.error("remote_write: {}: {} samples dropped ({}): {}", name(), samples, why, reason);
    attempts_ = 0;
    ++next_request_;
    SendOrAdvance();
  }

  bool SaveCursor() {
    if (Status s = store_.AdvanceRemoteWriteCursor(name(), acknowledged_, clock_.Now()); !s.ok()) {
      log_.error("remote_write: {}: cannot record the cursor: {}", name(), s.ToString());
      return false;
    }
    cursor_ = acknowledged_;
    return true;
  }

  // Waits, then sends the current request again (or, with nothing in hand, reads anew).
  void Backoff(const std::string& reason, std::optional<Duration> retry_after = std::nullopt) {
    const int attempt = std::max(attempts_, 1);
    Duration delay = RetryDelay(attempt, config_.min_backoff, config_.max_backoff,
                                std::uniform_real_distribution<double>(0.0, 1.0)(engine_));
    if (retry_after) delay = std::max(delay, *retry_after);
    if ((attempt & (attempt - 1)) == 0) {
      // Backoffs start at milliseconds: FormatDurationShort would round them to "0s".
      log_.warn("remote_write: {}: attempt {} failed ({}; host {}), retrying in {}", name(), attempt, reason, host_,
                delay < std::chrono::seconds(1) ? fmt::format("{}ms", delay.count()) : FormatDurationShort(delay));
    }
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped_) return;
      if (self->next_request_ < self->requests_.size()) return self->SendOrAdvance();
      self->Next();
    });
  }

  asio::io_context& io_;
  store::Store& store_;
  const RemoteWriteConfig& config_;
  const Clock& clock_;
  spdlog::logger& log_;
  asio::steady_timer retry_timer_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::optional<HttpPoster> poster_;
  std::string target_, host_;
  std::string authorization_;          // secret
  std::vector<std::string> secrets_;   // scrubbed from receivers' error texts
  std::vector<std::pair<std::string, std::string>> external_;
  std::unordered_map<store::SeriesId, RemoteWriteSeries> series_;
  std::minstd_rand engine_{std::random_device{}()};
  RemoteWriteStats stats_;
  int64_t cursor_ = 0;        // as recorded in the store
  int64_t acknowledged_ = 0;  // sent and acknowledged; ahead of cursor_ while the store refuses it
  int64_t batch_end_ = 0;     // the last event of the batch in hand
  std::vector<Request> requests_;
  size_t next_request_ = 0;
  int attempts_ = 0;
  bool busy_ = false;
  bool stopped_ = false;
};

Result<std::unique_ptr<RemoteWriteSender>> RemoteWriteSender::Create(asio::io_context& io, store::Store& store,
                                                                     const std::vector<RemoteWriteConfig>& config,
                                                                     const Clock& clock, spdlog::logger& log) {
  std::unique_ptr<RemoteWriteSender> sender(new RemoteWriteSender());
  for (const RemoteWriteConfig& c : config) {
    auto endpoint = std::make_shared<Endpoint>(io, store, c, clock, log);
    OFFMON_RETURN_IF_ERROR(endpoint->Init());
    sender->endpoints_.push_back(std::move(endpoint));
  }
  sender->Wake();
  return sender;
}

RemoteWriteSender::~RemoteWriteSender() {
  for (auto& e : endpoints_) e->Stop();
}

void RemoteWriteSender::Wake() {
  for (auto& e : endpoints_) e->Wake();
}

std::vector<RemoteWriteStats> RemoteWriteSender::Stats() const {
  std::vector<RemoteWriteStats> out;
  for (const auto& e : endpoints_) out.push_back(e->stats());
  return out;
}

}  // namespace offmon::notify
