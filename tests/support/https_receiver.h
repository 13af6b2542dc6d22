// A loopback HTTPS receiver for tests, on the test's io_context (no threads): it accepts
// TLS connections on 127.0.0.1 (an ephemeral port) with the certificate and key it is
// given, records each request with the server name the client sent (SNI), answers 200,
// and counts handshakes that failed (a client that rejected the certificate).
// http_receiver.h is the plain-HTTP one.
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

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
  HttpsReceiver(boost::asio::io_context& io, const std::filesystem::path& cert_chain, const std::filesystem::path& key)
      : tls_(boost::asio::ssl::context::tls_server), acceptor_(io) {
    tls_.use_certificate_chain_file(cert_chain.string());
    tls_.use_private_key_file(key.string(), boost::asio::ssl::context::pem);
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    Accept();
  }
  ~HttpsReceiver() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  // https://HOST:PORT/PATH, HOST "127.0.0.1" or "localhost".
  std::string url(std::string_view host = "127.0.0.1", std::string_view path = "/hook") const {
    return "https://" + std::string(host) + ":" + std::to_string(port()) + std::string(path);
  }
  // Answer without Content-Length and close the TCP connection after the body without a
  // TLS close_notify, as some servers do: the client sees "stream truncated".
  void EndBodyByClosing(bool on) { end_body_by_closing_ = on; }

  const std::vector<ReceivedTlsRequest>& requests() const { return requests_; }
  int failed_handshakes() const { return failed_handshakes_; }

 private:
  using Stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  struct Connection {
    Connection(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls)
        : stream(std::move(socket), tls) {}
    Stream stream;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
      if (ec) return;  // closed
      auto c = std::make_shared<Connection>(std::move(socket), tls_);
      c->stream.async_handshake(boost::asio::ssl::stream_base::server, [this, c](const boost::system::error_code& hec) {
        if (hec) {
          ++failed_handshakes_;
          return;
        }
        Read(c);
      });
      Accept();
    });
  }

  void Read(const std::shared_ptr<Connection>& c) {
    namespace http = boost::beast::http;
    http::async_read(c->stream, c->buffer, c->request, [this, c](const boost::system::error_code& ec, size_t) {
      if (ec) return;
      const char* sni = SSL_get_servername(c->stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      requests_.push_back({std::string(c->request.target()), c->request.body(), sni != nullptr ? sni : ""});
      c->response.result(http::status::ok);
      c->response.version(11);
      c->response.keep_alive(false);
      c->response.body() = "ok";
      if (!end_body_by_closing_) c->response.prepare_payload();
      http::async_write(c->stream, c->response, [this, c](const boost::system::error_code&, size_t) {
        if (end_body_by_closing_) {
          boost::system::error_code ignored;
          boost::beast::get_lowest_layer(c->stream).socket().close(ignored);
          return;
        }
        c->stream.async_shutdown([c](const boost::system::error_code&) {});
      });
    });
  }

  boost::asio::ssl::context tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  bool end_body_by_closing_ = false;
  int failed_handshakes_ = 0;
  std::vector<ReceivedTlsRequest> requests_;
};

}  // namespace offmon::testing
