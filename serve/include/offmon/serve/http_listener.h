// HttpListener: a small HTTP/1.1 server (Boost.Beast) on an existing Asio io_context, for
// the daemon's /metrics, /healthz and /api/report. Everything is asynchronous on that
// io_context: no thread per connection, so slow or malicious clients cost a socket and a
// few KiB each and never stall the loop's other work (collection timers, store writes).
//
// Limits: a request's header at most kMaxHeaderBytes (else 431) and no body (else 400);
// a request's header must arrive whole within read_timeout of the connection opening (on
// a kept-alive connection: of the request's first byte), and a kept-alive connection may
// wait at most idle_timeout for that first byte, else the connection is dropped; each
// write must complete within write_timeout. At most max_connections are open at once.
// When all are, a new connection closes the one that has waited longest for a request
// (new, idle or slow: holding no request) if that one has waited at least evict_after,
// as nginx does with its idle connections, so clients that connect and stall cannot lock
// out a health probe. Otherwise (every connection busy answering, or just opened) the new
// one is refused: its request is still read (within 1 s) and /healthz answered as usual,
// anything else gets 503 with Retry-After; past 64 refusals in progress the oldest
// waiting connection is closed whatever its age. A malformed request gets 400 and the
// connection is closed.
//
// Memory: each open connection holds a socket and at most about 12 KiB (its header
// buffer and parser), so max_connections bounds it; refusals in progress are capped at 64.
//
// Thread safety: create, use and destroy on the io_context's thread. The handler runs
// there too and must not throw.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "offmon/common/result.h"
#include "offmon/common/time.h"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace offmon::serve {

inline constexpr uint32_t kMaxHeaderBytes = 8 * 1024;

struct HttpRequest {
  std::string_view method;  // "GET", ...
  std::string_view target;  // "/metrics?x=1"
  std::string_view accept;  // the Accept header, or empty
  std::string_view authorization;  // the Authorization header, or empty; a secret: never logged
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra header fields (name, value), e.g. security headers or WWW-Authenticate.
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is `body` followed by the pieces this returns, one call per piece
  // (false: no more), sent with chunked transfer encoding so a large body is never held
  // whole. Called on the io_context thread between writes.
  std::function<bool(std::string* piece)> next_piece;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpLimits {
  size_t max_connections = 256;
  Duration read_timeout = std::chrono::seconds(10);  // a request's header, whole
  Duration idle_timeout = std::chrono::seconds(30);  // a kept-alive connection between requests
  Duration write_timeout = std::chrono::seconds(10);  // each write of a response
  // When all max_connections are open, a connection that has waited this long for a
  // request may be closed for a new one. Shorter ones are spared (their request may be on
  // the way) unless refusals are at their cap too.
  Duration evict_after = std::chrono::seconds(1);
};

// Counters since the listener (or the first of the listeners sharing them) started.
struct HttpStats {
  uint64_t requests_total = 0;  // requests answered, by any status
  uint64_t bad_requests_total = 0;  // malformed or over the size limits: 400, 413, 431
  uint64_t refused_total = 0;       // connections refused over max_connections (all busy)
  uint64_t evicted_total = 0;       // waiting connections closed to make room for a new one
  uint64_t timeouts_total = 0;      // connections dropped by read_timeout or write_timeout
  int64_t open_connections = 0;
};

class HttpListener {
 public:
  // Binds `listen` ("127.0.0.1:9470", "[::1]:0") and starts accepting. InvalidArgument for
  // a bad address, IOError when it cannot bind (in use, no permission).
  static Result<std::unique_ptr<HttpListener>> Start(boost::asio::io_context& io, std::string_view listen,
                                                     const HttpLimits& limits, HttpHandler handler,
                                                     std::shared_ptr<HttpStats> stats, spdlog::logger& log);
  // Stops accepting. Open connections finish their current exchange and close.
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  uint16_t port() const;               // the bound port (the chosen one for port 0)
  std::string address() const;         // "127.0.0.1:PORT", "[::1]:PORT"

  struct Impl;

 private:
  explicit HttpListener(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace offmon::serve
