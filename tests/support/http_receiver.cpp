#include "support/http_receiver.h"

#include <deque>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "support/http_connection_impl.h"

namespace offmon::testing {

class HttpReceiver::Impl {
 public:
  Impl(boost::asio::io_context& io, std::string address) : io_(io), address_(std::move(address)) {}
  void Start() {
    namespace asio = boost::asio;
    acceptor_ = std::make_shared<asio::ip::tcp::acceptor>(io_);
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address_), port_);
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    acceptor_->bind(endpoint);
    acceptor_->listen();
    port_ = acceptor_->local_endpoint().port();
    Accept(acceptor_);
  }
  void Stop() {
    if (!acceptor_) return;
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    acceptor_.reset();
  }

  const std::string& address() const { return address_; }

  // Read by HttpReceiver's accessors; the handlers run on the same thread (io.run()).
  unsigned short port_ = 0;
  std::deque<int> script_;
  std::string body_ = "bad request: field alert is invalid";
  std::vector<ReceivedRequest> requests_;

 private:
  using Connection = HttpConnection;

  void Accept(const std::shared_ptr<boost::asio::ip::tcp::acceptor>& acceptor) {
    acceptor->async_accept([this, acceptor](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
      if (ec || acceptor != acceptor_) return;
      auto c = std::make_shared<Connection>(std::move(socket));
      boost::beast::http::async_read(c->socket, c->buffer, c->request,
                                     [this, c](const boost::system::error_code& rec, size_t) {
                                       if (rec) return;
                                       requests_.push_back({std::string(c->request.target()), c->request.body(),
                                                            std::string(c->request["Idempotency-Key"]),
                                                            std::string(c->request[boost::beast::http::field::host])});
                                       int status = 200;
                                       if (!script_.empty()) {
                                         status = script_.front();
                                         script_.pop_front();
                                       }
                                       c->response.result(static_cast<unsigned>(status));
                                       c->response.version(11);
                                       c->response.keep_alive(false);
                                       c->response.body() = status >= 400 ? body_ : "";
                                       c->response.prepare_payload();
                                       boost::beast::http::async_write(
                                           c->socket, c->response, [c](const boost::system::error_code&, size_t) {
                                             boost::system::error_code ignored;
                                             c->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
                                           });
                                     });
      Accept(acceptor);
    });
  }

  boost::asio::io_context& io_;
  std::string address_;
  std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
};

HttpReceiver::HttpReceiver(boost::asio::io_context& io, std::string address)
    : impl_(std::make_unique<Impl>(io, std::move(address))) {
  impl_->Start();
}
HttpReceiver::~HttpReceiver() { impl_->Stop(); }

void HttpReceiver::Start() { impl_->Start(); }
void HttpReceiver::Stop() { impl_->Stop(); }
unsigned short HttpReceiver::port() const { return impl_->port_; }
std::string HttpReceiver::url(std::string_view path) const {
  const std::string& address = impl_->address();
  const std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  return "http://" + host + ":" + std::to_string(impl_->port_) + std::string(path);
}
void HttpReceiver::Script(std::vector<int> statuses) { impl_->script_.assign(statuses.begin(), statuses.end()); }
void HttpReceiver::SetBody(std::string body) { impl_->body_ = std::move(body); }
const std::vector<ReceivedRequest>& HttpReceiver::requests() const { return impl_->requests_; }

HttpResult HttpRequest(unsigned short port, boost::beast::http::verb verb, const std::string& target,
                       const std::string& body) {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> request(verb, target, 11);
    request.set(http::field::host, "127.0.0.1");
    if (!body.empty()) request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return {static_cast<int>(response.result_int()), response.body()};
  } catch (const std::exception& e) {
    return {0, e.what()};
  }
}

}  // namespace offmon::testing
