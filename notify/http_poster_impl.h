// One HTTP(S) POST on an Asio loop: resolve, connect, TLS handshake (verified through
// tls_client_impl.h), write, read the response, each step under one overall timeout. For
// the remote-write sender; a request is cancelled by destroying the poster's owner's
// interest (Cancel) and its callback is then never called.
//
// Thread safety: the io_context's thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "offmon/common/time.h"
#include "offmon/notify/notification_payload.h"

namespace offmon::notify {

struct HttpPostResult {
  // The response status and the start of its body (at most 1 KiB, control characters
  // blanked), or 0 when there was none; then `error` says why (timed out, refused, TLS).
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, as sent
  std::string error;
  bool certificate_rejected = false;  // `error` is a rejected certificate
};

class HttpPoster {
 public:
  using Done = std::function<void(HttpPostResult)>;
  // `tls` (https:// only) is borrowed and must outlive every request.
  HttpPoster(boost::asio::io_context& io, HttpUrl url, boost::asio::ssl::context* tls, Duration timeout);
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  // Sends `request` (its Host header is set here) on a new connection and calls `done`
  // once, on the loop, unless Cancel() came first. One request at a time.
  void Post(boost::beast::http::request<boost::beast::http::string_body> request, Done done);
  void Cancel();

 private:
  class Exchange;
  boost::asio::io_context& io_;
  HttpUrl url_;
  boost::asio::ssl::context* tls_;
  Duration timeout_;
  std::shared_ptr<Exchange> current_;
};

}  // namespace offmon::notify
