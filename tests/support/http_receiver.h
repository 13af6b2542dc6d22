// A loopback HTTP receiver for tests, on the test's io_context (no threads): it accepts
// connections on 127.0.0.1 or another address given (::1), on an ephemeral port, records each request and answers with
// the next scripted status (then 200). Stop() closes the port ("receiver down"); Start()
// listens on the same port again. Also a blocking HTTP client for tests.
// The Beast code is compiled once, in http_receiver.cpp: instantiated in every test file
// that used it, it was most of their compile time under the sanitizers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>

namespace offmon::testing {

struct ReceivedRequest {
  std::string target;
  std::string body;
  std::string idempotency_key;
  std::string host;  // the Host header
  // Every header, by name as sent (ThreadedHttpReceiver only).
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

class HttpReceiver {
 public:
  // Throws boost::system::system_error when it cannot listen on `address`.
  explicit HttpReceiver(boost::asio::io_context& io, std::string address = "127.0.0.1");
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  void Start();
  void Stop();

  unsigned short port() const;
  std::string url(std::string_view path = "/hook") const;
  // Statuses to answer with, in order; 200 once they are used up.
  void Script(std::vector<int> statuses);
  void SetBody(std::string body);
  const std::vector<ReceivedRequest>& requests() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

struct HttpResult {
  int status = 0;  // 0: no response (the error is in body)
  std::string body;
};

// A blocking request to 127.0.0.1:port (tests only).
HttpResult HttpRequest(unsigned short port, boost::beast::http::verb verb, const std::string& target,
                       const std::string& body = "");

}  // namespace offmon::testing
