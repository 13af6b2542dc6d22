#include "offmon/serve/http_endpoints.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>

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

}  // namespace

HttpResponse HttpEndpoints::Handle(const HttpRequest& request) {
  const std::string_view path = PathOf(request.target);
  if (path == "/metrics") return Metrics(request);
  if (path == "/healthz") return Healthz();
  if (path == "/api/report") return Report();
  if (path == "/") {
    return Text(200, "offmon\n/metrics      Prometheus metrics\n/healthz      collector health\n"
                     "/api/report  the health report as JSON\n");
  }
  return Text(404, "not found (try /metrics, /healthz, /api/report)\n");
}

HttpResponse HttpEndpoints::Metrics(const HttpRequest& request) {
  const TimePoint now = sources_.clock->Now();
  auto latest = sources_.store->ReadLatest(now - sources_.config->http.stale_after);
  if (!latest) return Text(500, fmt::format("store: {}\n", latest.error().ToString()));
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
