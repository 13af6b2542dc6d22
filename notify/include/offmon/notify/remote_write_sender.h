// RemoteWriteSender: Prometheus remote write 1.0 driven by the store's event log
// (docs/remote-write.md), on the daemon's Asio loop.
//
// Each [remote_write.NAME] endpoint has a durable cursor in the store: the last event
// sent and acknowledged. The endpoint reads the forwardable events after it, oldest
// first, at most max_samples_per_send samples per request (and one event's worth of
// memory beyond), POSTs them (protobuf + snappy, the protocol's headers, basic auth or a
// bearer token, https:// verified as notification receivers are) and moves the cursor
// on a 2xx. 5xx, 429 and connection errors are retried with exponential backoff and
// jitter (Retry-After honoured); any other 4xx drops the request's samples, counted as
// reason "too_old" when the receiver says they are out of bounds or too old, else
// "rejected", and moves on. A remote_write_gap event (retention deleted events this
// endpoint had not been sent) is logged as an error and counted as reason "retention".
// After a restart or SIGKILL sending resumes from the cursor; a request whose
// acknowledgement was not recorded is sent again (receivers ignore identical samples).
//
// Secrets (password_file, bearer_token_file, credentials in the URL) are never logged.
//
// Thread safety: the io_context's thread only, like the store it reads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "offmon/common/config.h"
#include "offmon/common/result.h"
#include "offmon/common/time.h"

namespace spdlog {
class logger;
}
namespace offmon::store {
class Store;
}

namespace offmon::notify {

// Counters since the sender started, per endpoint.
struct RemoteWriteStats {
  std::string endpoint;
  int64_t samples_sent_total = 0;
  std::map<std::string, int64_t> samples_dropped_total;  // by reason: rejected, too_old, retention
};

class RemoteWriteSender {
 public:
  // Resolves every endpoint (URL, secret files, TLS context) and opens its cursor, then
  // starts sending what is pending. InvalidArgument naming the endpoint and the problem
  // (never a secret or the URL's path) when one cannot be used; store errors as they are.
  // `config`, like `store`, `clock` and `log`, must outlive the sender: it is kept by
  // reference.
  static Result<std::unique_ptr<RemoteWriteSender>> Create(boost::asio::io_context& io, store::Store& store,
                                                           const std::vector<RemoteWriteConfig>& config,
                                                           const Clock& clock, spdlog::logger& log);
  ~RemoteWriteSender();  // cancels requests in flight; they are sent again by the next sender
  RemoteWriteSender(const RemoteWriteSender&) = delete;
  RemoteWriteSender& operator=(const RemoteWriteSender&) = delete;

  // New events were committed: idle endpoints look for them.
  void Wake();
  std::vector<RemoteWriteStats> Stats() const;

  class Endpoint;

 private:
  RemoteWriteSender() = default;
  std::vector<std::shared_ptr<Endpoint>> endpoints_;
};

}  // namespace offmon::notify
