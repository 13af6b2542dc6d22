// A loopback HTTPS receiver for tests, on the test's io_context (no threads): it accepts
// TLS connections on 127.0.0.1 (an ephemeral port) with the certificate and key it is
// given, records each request with the server name the client sent (SNI), answers 200,
// and counts handshakes that failed (a client that rejected the certificate).
// http_receiver.h is the plain-HTTP one.
// Compiled once, in https_receiver.cpp (see http_receiver.h).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace offmon::testing {

struct ReceivedTlsRequest {
  std::string target;
  std::string body;
  std::string server_name;  // SNI; "" when the client sent none (an IP address URL)
};

class HttpsReceiver {
 public:
  // `cert_chain` and `key`: PEM files. Throws (a test setup failure) when they cannot be
  // loaded or the port cannot be bound.
  HttpsReceiver(boost::asio::io_context& io, const std::filesystem::path& cert_chain, const std::filesystem::path& key);
  ~HttpsReceiver();
  HttpsReceiver(const HttpsReceiver&) = delete;
  HttpsReceiver& operator=(const HttpsReceiver&) = delete;

  unsigned short port() const;
  // https://HOST:PORT/PATH, HOST "127.0.0.1" or "localhost".
  std::string url(std::string_view host = "127.0.0.1", std::string_view path = "/hook") const;
  // Answer without Content-Length and close the TCP connection after the body without a
  // TLS close_notify, as some servers do: the client sees "stream truncated".
  void EndBodyByClosing(bool on);

  const std::vector<ReceivedTlsRequest>& requests() const;
  int failed_handshakes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace offmon::testing
