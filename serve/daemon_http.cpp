#include "offmon/serve/daemon_http.h"

#include <spdlog/spdlog.h>

namespace offmon::serve {

namespace {

bool SameListener(const HttpConfig& a, const HttpConfig& b) {
  return a.listen == b.listen && a.max_connections == b.max_connections && a.read_timeout == b.read_timeout &&
         a.idle_timeout == b.idle_timeout &&
         a.write_timeout == b.write_timeout;
}

}  // namespace

DaemonHttp::DaemonHttp(boost::asio::io_context& io, HttpEndpoints::Sources sources, spdlog::logger& log)
    : io_(io), log_(log) {
  sources.http_stats = stats_;
  endpoints_ = std::make_shared<HttpEndpoints>(std::move(sources));
}

DaemonHttp::~DaemonHttp() = default;

void DaemonHttp::Apply(const HttpConfig& config) {
  // The token is read at every start and reload, even when the listener stays; never logged.
  auto token = ReadHttpToken(config);
  if (!token) {
    log_.error("http: refusing every request but /healthz until the token can be read: {}",
               token.error().ToString());
    endpoints_->SetToken(std::string());
  } else {
    endpoints_->SetToken(std::move(*token));
  }
  if (!config.listen.empty() && config.token_file.empty() && !IsLoopbackListen(config.listen)) {
    log_.warn("http: {} is not a loopback address and [http] token_file is not set: anyone who can reach it reads "
              "the metrics and the dashboard",
              config.listen);
  }
  if (applied_ && SameListener(*applied_, config)) return;
  applied_ = config;
  listener_.reset();
  if (config.listen.empty()) {
    log_.info("http: listener disabled ([http] listen = \"\")");
    return;
  }
  HttpLimits limits;
  limits.max_connections = static_cast<size_t>(config.max_connections);
  limits.read_timeout = config.read_timeout;
  limits.idle_timeout = config.idle_timeout;
  limits.write_timeout = config.write_timeout;
  auto listener = HttpListener::Start(
      io_, config.listen, limits,
      [endpoints = endpoints_](const HttpRequest& request) { return endpoints->Handle(request); }, stats_, log_);
  if (!listener) {
    log_.error("http: not serving /metrics, /healthz, /api/report: {}", listener.error().ToString());
    return;
  }
  listener_ = std::move(*listener);
  log_.info("http: listening on {} (/metrics, /healthz, /api/report)", listener_->address());
}

void DaemonHttp::Stop() {
  listener_.reset();
  applied_.reset();
}

}  // namespace offmon::serve
