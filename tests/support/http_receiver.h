// A loopback HTTP receiver for tests, on the test's io_context (no threads): it accepts
// connections on 127.0.0.1 or another address given (::1), on an ephemeral port, records each request and answers with
// the next scripted status (then 200). Stop() closes the port ("receiver down"); Start()
// listens on the same port again. Also a blocking HTTP client for tests.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

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
  explicit HttpReceiver(boost::asio::io_context& io, std::string address = "127.0.0.1")
      : io_(io), address_(std::move(address)) {
    Start();
  }
  ~HttpReceiver() { Stop(); }

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

  unsigned short port() const { return port_; }
  std::string url(std::string_view path = "/hook") const {
    const std::string host = address_.find(':') != std::string::npos ? "[" + address_ + "]" : address_;
    return "http://" + host + ":" + std::to_string(port_) + std::string(path);
  }
  // Statuses to answer with, in order; 200 once they are used up.
  void Script(std::vector<int> statuses) { script_.assign(statuses.begin(), statuses.end()); }
  void SetBody(std::string body) { body_ = std::move(body); }
  const std::vector<ReceivedRequest>& requests() const { return requests_; }

 private:
  struct Connection {
    explicit Connection(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}
    boost::asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

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
  unsigned short port_ = 0;
  std::deque<int> script_;
  std::string body_ = "bad request: field alert is invalid";
  std::vector<ReceivedRequest> requests_;
};

struct HttpResult {
  int status = 0;  // 0: no response (the error is in body)
  std::string body;
};

// A blocking request to 127.0.0.1:port (tests only).
inline HttpResult HttpRequest(unsigned short port, boost::beast::http::verb verb, const std::string& target,
                              const std::string& body = "") {
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
