#include "support/https_receiver.h"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace offmon::testing {

class HttpsReceiver::Impl {
 public:
  Impl(boost::asio::io_context& io, const std::filesystem::path& cert_chain, const std::filesystem::path& key)
      : tls_(boost::asio::ssl::context::tls_server), acceptor_(io) {
    tls_.use_certificate_chain_file(cert_chain.string());
    tls_.use_private_key_file(key.string(), boost::asio::ssl::context::pem);
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    Accept();
  }
  ~Impl() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  // Read by HttpsReceiver's accessors; the handlers run on the same thread (io.run()).
  bool end_body_by_closing_ = false;
  int failed_handshakes_ = 0;
  std::vector<ReceivedTlsRequest> requests_;

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
};

HttpsReceiver::HttpsReceiver(boost::asio::io_context& io, const std::filesystem::path& cert_chain,
                             const std::filesystem::path& key)
    : impl_(std::make_unique<Impl>(io, cert_chain, key)) {}
HttpsReceiver::~HttpsReceiver() = default;

unsigned short HttpsReceiver::port() const { return impl_->port(); }
std::string HttpsReceiver::url(std::string_view host, std::string_view path) const {
  return "https://" + std::string(host) + ":" + std::to_string(port()) + std::string(path);
}
void HttpsReceiver::EndBodyByClosing(bool on) { impl_->end_body_by_closing_ = on; }
const std::vector<ReceivedTlsRequest>& HttpsReceiver::requests() const { return impl_->requests_; }
int HttpsReceiver::failed_handshakes() const { return impl_->failed_handshakes_; }

}  // namespace offmon::testing
