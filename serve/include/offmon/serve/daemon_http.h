// DaemonHttp: the daemon's HTTP listener and what it serves, started, restarted on a
// config reload that changes [http], and stopped with the daemon. A listener that cannot
// bind is logged and left out: collection never depends on it.
//
// Thread safety: the daemon's event loop thread only.
#pragma once

#include <memory>
#include <optional>

#include "offmon/serve/http_endpoints.h"
#include "offmon/serve/http_listener.h"

namespace offmon::serve {

class DaemonHttp {
 public:
  DaemonHttp(boost::asio::io_context& io, HttpEndpoints::Sources sources, spdlog::logger& log);
  ~DaemonHttp();
  DaemonHttp(const DaemonHttp&) = delete;
  DaemonHttp& operator=(const DaemonHttp&) = delete;

  // Makes the listener match `config`: nothing when unchanged, else stops the old one and
  // starts the new one (none for listen = "").
  void Apply(const HttpConfig& config);
  void Stop();

 private:
  boost::asio::io_context& io_;
  spdlog::logger& log_;
  std::shared_ptr<HttpStats> stats_ = std::make_shared<HttpStats>();
  std::shared_ptr<HttpEndpoints> endpoints_;  // shared with connections that outlive a listener
  std::unique_ptr<HttpListener> listener_;
  std::optional<HttpConfig> applied_;
};

}  // namespace offmon::serve
