// HttpEndpoints: what the daemon's HTTP listener serves (docs/metrics.md, "HTTP
// endpoints"):
//   GET /metrics     the newest sample of every series stored in the last
//                    [http] stale_after, plus the daemon's own health, in the Prometheus
//                    text format 0.0.4 or OpenMetrics (by Accept), streamed per family
//   GET /healthz     200 "ok" when every collector succeeded within twice its interval,
//                    else 503 with one reason per line
//   GET /api/report  the health report as JSON (through the app layer's ReportJson)
//   anything else    the web dashboard (through the app layer's Dashboard hook:
//                    /, /charts, /alerts, /static/*, /api/overview, ...); without the
//                    hook, / is a short index and anything else 404
//
// With a bearer token ([http] token_file, docs/dashboard.md), every path but /healthz
// needs `Authorization: Bearer TOKEN`, else 401; the comparison takes the same time
// wherever the given token differs. Every response carries X-Content-Type-Options:
// nosniff; the dashboard's carry its own security headers too (a Content-Security-Policy).
//
// Thread safety: the daemon's event loop thread only (it reads the store and the
// daemon's status in place).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "offmon/collector/daemon.h"
#include "offmon/collector/daemon_status.h"
#include "offmon/collector/http_listener.h"
#include "offmon/collector/metrics_exposition.h"

namespace offmon::collector {

// Notifications queued and not yet delivered or failed, by receiver.
using OutboxBacklog = std::function<std::map<std::string, int64_t>()>;

class HttpEndpoints {
 public:
  // Everything is borrowed and must outlive this object; `config` is the running one
  // (read at every request, so a reload takes effect). `report_json` and
  // `outbox_backlog` may be empty.
  struct Sources {
    store::Store* store = nullptr;
    const DaemonStatus* status = nullptr;
    const Config* config = nullptr;
    const Clock* clock = nullptr;
    std::string store_path;  // for offmon_daemon_store_size_bytes
    ReportJson report_json;
    Dashboard dashboard;
    OutboxBacklog outbox_backlog;
    std::shared_ptr<const HttpStats> http_stats;
  };
  explicit HttpEndpoints(Sources sources) : sources_(std::move(sources)) {}

  HttpResponse Handle(const HttpRequest& request);

  // The bearer token every path but /healthz requires from now on: nullopt for none; an
  // empty string refuses every such request (a token_file that cannot be read).
  void SetToken(std::optional<std::string> token) { token_ = std::move(token); }

  // The daemon's own families (offmon_daemon_*) at `now`.
  std::vector<OwnFamily> OwnFamilies(TimePoint now) const;

 private:
  HttpResponse Metrics(const HttpRequest& request);
  HttpResponse Healthz();
  HttpResponse Report();
  HttpResponse DashboardPage(const HttpRequest& request);
  bool Authorized(const HttpRequest& request) const;

  Sources sources_;
  std::optional<std::string> token_;
};

// The token of [http] token_file: the file's content without surrounding blanks and
// newlines. nullopt when token_file is "" (no token); IOError naming the file (never its
// content) when it cannot be read, InvalidArgument when it holds no token.
Result<std::optional<std::string>> ReadHttpToken(const HttpConfig& config);

}  // namespace offmon::collector
