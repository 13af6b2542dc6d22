#include "offmon/serve/http_endpoints.h"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

namespace offmon::serve {

namespace {

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

HttpResponse Text(unsigned status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// Resident memory now, from /proc/self/statm (pages); 0 when unreadable.
double ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  std::string line;
  if (!std::getline(in, line)) return 0;
  const size_t space = line.find(' ');
  if (space == std::string::npos) return 0;
  uint64_t pages = 0;
  const char* begin = line.data() + space + 1;
  auto [end, ec] = std::from_chars(begin, line.data() + line.size(), pages);
  if (ec != std::errc()) return 0;
  return static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double FileBytes(const std::string& path) {
  std::error_code ec;
  uintmax_t total = 0;
  for (const std::string& p : {path, path + "-wal"}) {
    const uintmax_t size = std::filesystem::file_size(p, ec);
    if (!ec) total += size;
  }
  return static_cast<double>(total);
}

double Seconds(TimePoint t) { return static_cast<double>(ToMillis(t)) / 1000; }

// Whether `given` equals `want`, in a time that depends on want's length only.
bool SameSecret(std::string_view given, std::string_view want) {
  unsigned diff = given.size() == want.size() ? 0u : 1u;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto a = static_cast<unsigned char>(want[i]);
    const auto b = static_cast<unsigned char>(i < given.size() ? given[i] : '\0');
    diff |= static_cast<unsigned>(a ^ b);
  }
  return diff == 0;
}

// The token of an "Authorization: Bearer TOKEN" header; empty for another scheme.
std::string_view BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return {};
  }
  header.remove_prefix(kScheme.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  return header;
}

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\r\n";
  const size_t begin = text.find_first_not_of(kBlanks);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kBlanks) - begin + 1);
}

}  // namespace

Result<std::optional<std::string>> ReadHttpToken(const HttpConfig& config) {
  if (config.token_file.empty()) return std::optional<std::string>();
  std::ifstream in(config.token_file, std::ios::binary);
  if (!in) return Status::IOError(fmt::format("[http] token_file {}: cannot be opened", config.token_file));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IOError(fmt::format("[http] token_file {}: cannot be read", config.token_file));
  const std::string_view token = Trim(content);
  if (token.empty()) return Status::InvalidArgument(fmt::format("[http] token_file {}: empty", config.token_file));
  if (token.find_first_of(" \t\r\n") != std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("[http] token_file {}: holds more than one word", config.token_file));
  }
  return std::optional<std::string>(std::string(token));
}

bool HttpEndpoints::Authorized(const HttpRequest& request) const {
  if (!token_) return true;
  const std::string_view given = BearerToken(request.authorization);
  return !token_->empty() && SameSecret(given, *token_);
}

HttpResponse HttpEndpoints::Handle(const HttpRequest& request) {
  const std::string_view path = PathOf(request.target);
  HttpResponse response;
  if (path == "/healthz") {
    response = Healthz();
  } else if (!Authorized(request)) {
    response = Text(401, "unauthorized: this listener needs \"Authorization: Bearer TOKEN\" ([http] token_file)\n");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"offmon\"");
  } else if (path == "/metrics") {
    response = Metrics(request);
  } else if (path == "/api/report") {
    response = Report();
  } else if (sources_.dashboard) {
    response = DashboardPage(request);
  } else if (path == "/") {
    response = Text(200, "offmon\n/metrics      Prometheus metrics\n/healthz      collector health\n"
                         "/api/report  the health report as JSON\n");
  } else {
    response = Text(404, "not found (try /metrics, /healthz, /api/report)\n");
  }
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return response;
}

HttpResponse HttpEndpoints::DashboardPage(const HttpRequest& request) {
  auto reply = sources_.dashboard(*sources_.store, *sources_.config, sources_.clock->Now(), request.target);
  if (!reply) return Text(500, fmt::format("dashboard: {}\n", reply.error().ToString()));
  HttpResponse response;
  response.status = reply->status;
  response.content_type = std::move(reply->content_type);
  response.body = std::move(reply->body);
  response.headers = std::move(reply->headers);
  return response;
}

HttpResponse HttpEndpoints::Metrics(const HttpRequest& request) {
  const TimePoint now = sources_.clock->Now();
  auto latest = sources_.store->ReadLatest(now - sources_.config->http.stale_after);
  if (!latest) return Text(500, fmt::format("store: {}\n", latest.error().ToString()));
  // A series whose newest sample is a staleness marker has ended (a resolved alert).
  std::erase_if(*latest, [](const store::LatestSample& l) { return IsStaleMarker(l.sample.value); });
  const ExpositionFormat format = NegotiateFormat(request.accept);
  auto exposition = std::make_shared<MetricsExposition>(std::move(*latest), OwnFamilies(now), format);
  HttpResponse response;
  response.content_type = std::string(ContentType(format));
  response.next_piece = [exposition](std::string* piece) { return exposition->Next(piece); };
  return response;
}

std::vector<OwnFamily> HttpEndpoints::OwnFamilies(TimePoint now) const {
  std::vector<OwnFamily> out;
  const DaemonStatus& status = *sources_.status;
  OwnFamily healthy{"offmon_daemon_healthy", MetricType::kGauge,
                    "1 when every collector succeeded within twice its interval and the store takes writes (/healthz).",
                    {}};
  healthy.samples.push_back({{}, HealthProblems(status, now).empty() ? 1.0 : 0.0});
  out.push_back(std::move(healthy));
  OwnFamily success{"offmon_daemon_collector_last_success_timestamp_seconds", MetricType::kGauge,
                    "Unix time of the collector's last run without a failure.", {}};
  OwnFamily errors{"offmon_daemon_collector_errors_total", MetricType::kCounter,
                   "Collector runs that reported a failure since the daemon started.", {}};
  OwnFamily interval{"offmon_daemon_collector_interval_seconds", MetricType::kGauge,
                     "The collector's configured interval.", {}};
  for (const CollectorHealth& c : status.collectors) {
    const Labels labels{{"collector", c.name}};
    if (c.last_success) success.samples.push_back({labels, Seconds(*c.last_success)});
    errors.samples.push_back({labels, static_cast<double>(c.errors_total)});
    interval.samples.push_back({labels, static_cast<double>(c.interval.count()) / 1000});
  }
  for (OwnFamily* f : {&success, &errors, &interval}) {
    if (!f->samples.empty()) out.push_back(std::move(*f));
  }
  if (sources_.outbox_backlog) {
    OwnFamily backlog{"offmon_daemon_notification_outbox_backlog", MetricType::kGauge,
                      "Notifications queued and not yet delivered or failed, by receiver.", {}};
    for (const auto& [receiver, count] : sources_.outbox_backlog()) {
      backlog.samples.push_back({{{"receiver", receiver}}, static_cast<double>(count)});
    }
    if (!backlog.samples.empty()) out.push_back(std::move(backlog));
  }
  out.push_back({"offmon_daemon_store_size_bytes", MetricType::kGauge,
                 "Size of the store file plus its write-ahead log.", {{{}, FileBytes(sources_.store_path)}}});
  out.push_back({"offmon_daemon_resident_memory_bytes", MetricType::kGauge,
                 "offmon's resident memory now (/proc/self/statm).", {{{}, ResidentBytes()}}});
  if (sources_.http_stats) {
    const HttpStats& http = *sources_.http_stats;
    out.push_back({"offmon_daemon_http_requests_total", MetricType::kCounter,
                   "HTTP requests answered by the daemon's listener.",
                   {{{}, static_cast<double>(http.requests_total)}}});
    out.push_back({"offmon_daemon_http_bad_requests_total", MetricType::kCounter,
                   "Malformed or oversized HTTP requests (400, 413, 431).",
                   {{{}, static_cast<double>(http.bad_requests_total)}}});
    out.push_back({"offmon_daemon_http_refused_connections_total", MetricType::kCounter,
                   "HTTP connections refused over [http] max_connections, every one busy answering.",
                   {{{}, static_cast<double>(http.refused_total)}}});
    out.push_back({"offmon_daemon_http_evicted_connections_total", MetricType::kCounter,
                   "HTTP connections waiting for a request, closed to make room for a new one.",
                   {{{}, static_cast<double>(http.evicted_total)}}});
    out.push_back({"offmon_daemon_http_timeouts_total", MetricType::kCounter,
                   "HTTP connections dropped by [http] read_timeout or write_timeout.",
                   {{{}, static_cast<double>(http.timeouts_total)}}});
  }
  return out;
}

HttpResponse HttpEndpoints::Healthz() {
  const std::vector<std::string> problems = HealthProblems(*sources_.status, sources_.clock->Now());
  if (problems.empty()) return Text(200, "ok\n");
  std::string body;
  for (const std::string& p : problems) body += p + "\n";
  return Text(503, std::move(body));
}

HttpResponse HttpEndpoints::Report() {
  if (!sources_.report_json) return Text(404, "no report in this build\n");
  auto json = sources_.report_json(*sources_.store, *sources_.config, sources_.clock->Now());
  if (!json) return Text(500, fmt::format("report: {}\n", json.error().ToString()));
  HttpResponse response;
  response.content_type = "application/json";
  response.body = std::move(*json);
  return response;
}

}  // namespace offmon::serve
