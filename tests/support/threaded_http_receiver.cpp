#include "support/threaded_http_receiver.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "support/http_connection_impl.h"

namespace offmon::testing {

class ThreadedHttpReceiver::Impl {
 public:
  Impl()
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        port_(acceptor_.local_endpoint().port()),
        work_(io_.get_executor()) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Impl() {
    io_.stop();
    thread_.join();
  }

  unsigned short port() const { return port_; }

  void Hold(bool hold) {
    hold_ = hold;
    if (hold) return;
    boost::asio::post(io_, [this] {
      for (const auto& c : held_) {
        boost::system::error_code ignored;
        c->socket.close(ignored);
      }
      held_.clear();
    });
  }

  void AnswerNext(unsigned status, std::string body = "", std::string retry_after = "") {
    std::lock_guard lock(mu_);
    answers_.push_back({status, std::move(body), std::move(retry_after)});
  }

  std::vector<ReceivedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  using Connection = HttpConnection;

  // On the receiver's thread only, as are held_ and the sockets.
  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
      if (ec) return;
      Read(std::make_shared<Connection>(std::move(socket)));
      Accept();
    });
  }

  void Read(const std::shared_ptr<Connection>& c) {
    boost::beast::http::async_read(c->socket, c->buffer, c->request,
                                   [this, c](const boost::system::error_code& ec, size_t) {
                                     if (ec) return;
                                     unsigned status = 200;
                                     {
                                       std::lock_guard lock(mu_);
                                       std::vector<std::pair<std::string, std::string>> headers;
                                       for (const auto& field : c->request) {
                                         headers.emplace_back(std::string(field.name_string()),
                                                              std::string(field.value()));
                                       }
                                       requests_.push_back({std::string(c->request.target()), c->request.body(),
                                                            std::string(c->request["Idempotency-Key"]),
                                                            std::string(c->request[boost::beast::http::field::host]),
                                                            std::move(headers)});
                                       if (!answers_.empty() && !hold_) {
                                         status = answers_.front().status;
                                         c->response.body() = std::move(answers_.front().body);
                                         if (!answers_.front().retry_after.empty()) {
                                           c->response.set(boost::beast::http::field::retry_after,
                                                           answers_.front().retry_after);
                                         }
                                         answers_.erase(answers_.begin());
                                       }
                                     }
                                     if (hold_) {
                                       held_.push_back(c);
                                       return;
                                     }
                                     c->response.result(status);
                                     c->response.version(11);
                                     c->response.keep_alive(false);
                                     c->response.prepare_payload();
                                     boost::beast::http::async_write(
                                         c->socket, c->response, [c](const boost::system::error_code&, size_t) {
                                           boost::system::error_code ignored;
                                           c->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
                                         });
                                   });
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::atomic<bool> hold_{false};
  std::vector<std::shared_ptr<Connection>> held_;
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;  // guarded by mu_
  struct Answer {
    unsigned status;
    std::string body, retry_after;
  };
  std::vector<Answer> answers_;  // guarded by mu_
  std::thread thread_;
};

ThreadedHttpReceiver::ThreadedHttpReceiver() : impl_(std::make_unique<Impl>()) {}
ThreadedHttpReceiver::~ThreadedHttpReceiver() = default;

unsigned short ThreadedHttpReceiver::port() const { return impl_->port(); }
std::string ThreadedHttpReceiver::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
}
void ThreadedHttpReceiver::Hold(bool hold) { impl_->Hold(hold); }
void ThreadedHttpReceiver::AnswerNext(unsigned status, std::string body, std::string retry_after) {
  impl_->AnswerNext(status, std::move(body), std::move(retry_after));
}
std::vector<ReceivedRequest> ThreadedHttpReceiver::requests() const { return impl_->requests(); }
size_t ThreadedHttpReceiver::request_count() const { return impl_->request_count(); }

}  // namespace offmon::testing
