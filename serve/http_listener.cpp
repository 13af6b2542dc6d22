#include "offmon/serve/http_listener.h"

#include <list>
#include <optional>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "offmon/common/config.h"

namespace offmon::serve {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Refusals in progress (each reads the request, answers, and waits briefly for the client
// to close). Past this, an excess connection is closed without a word.
constexpr size_t kMaxRefusing = 64;
constexpr auto kRefuseTimeout = std::chrono::seconds(1);
// After a failed accept (out of file descriptors), wait before the next one.
constexpr auto kAcceptRetry = std::chrono::milliseconds(200);
// What an idle kept-alive connection reads at once while it waits for the next request.
constexpr size_t kIdleReadBytes = 1024;

class Connection;

// Shared by the listener and its connections, which may outlive it.
struct Shared {
  HttpLimits limits;
  HttpHandler handler;
  std::shared_ptr<HttpStats> stats;
  size_t refusing = 0;
  // The connections that hold no request (new, idle between requests, or still reading
  // one), longest waiting first: the ones a new connection may push out when every slot
  // is taken. A connection is in it from the end of its last response (or its accept) to
  // the end of reading the next request.
  std::list<Connection*> waiting;
};

std::string_view Std(beast::string_view text) { return {text.data(), text.size()}; }

bool IsHealthz(std::string_view target) { return target.substr(0, target.find('?')) == "/healthz"; }

// Each open connection holds one of max_connections slots (stats->open_connections).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    ++shared_->stats->open_connections;
  }
  ~Connection() {
    Unlist();
    if (!evicted_) --shared_->stats->open_connections;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start() { ReadRequest(/*kept_alive=*/false); }

  // Since when it has waited for a request (it is in shared_->waiting).
  std::chrono::steady_clock::time_point waiting_since() const { return waiting_since_; }

  // Closes a connection that holds no request, so a new one can have its slot (which is
  // free from now on). Its pending read ends with operation_aborted.
  void Evict() {
    Unlist();
    evicted_ = true;
    --shared_->stats->open_connections;
    ++shared_->stats->evicted_total;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void List() {
    Unlist();
    waiting_since_ = std::chrono::steady_clock::now();
    waiting_ = shared_->waiting.insert(shared_->waiting.end(), this);
  }
  void Unlist() {
    if (!waiting_) return;
    shared_->waiting.erase(*waiting_);
    waiting_.reset();
  }

  // A new connection, or a kept-alive one after a response: the header must then arrive
  // within read_timeout; a kept-alive connection first waits up to idle_timeout for the
  // request's first byte (unless it is already buffered, pipelined).
  void ReadRequest(bool kept_alive) {
    List();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(0);
    if (!kept_alive || buffer_.size() > 0) return ReadHeader();
    stream_.expires_after(shared_->limits.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kIdleReadBytes),
                            [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                              if (ec) return;  // idle_timeout (closed), reset, evicted
                              self->buffer_.commit(bytes);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    stream_.expires_after(shared_->limits.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    Unlist();
    if (evicted_) return;
    if (ec == beast::error::timeout) {
      ++shared_->stats->timeouts_total;  // tcp_stream closed the socket
      return;
    }
    if (ec == http::error::end_of_stream) return Shutdown();
    if (ec && ec.category() == beast::http::make_error_code(http::error::end_of_stream).category()) {
      // A parse error: malformed, too large, or a body where none belongs.
      ++shared_->stats->bad_requests_total;
      HttpResponse response;
      response.status = ec == http::error::header_limit ? 431 : ec == http::error::body_limit ? 413 : 400;
      response.body = fmt::format("bad request: {}\n", ec.message());
      keep_alive_ = false;
      return Send(std::move(response), 11);
    }
    if (ec) return;  // reset, aborted: the socket closes with this connection
    const auto& request = parser_->get();
    keep_alive_ = request.keep_alive();
    const auto accept = request.find(http::field::accept);
    const auto authorization = request.find(http::field::authorization);
    HttpRequest req{Std(request.method_string()), Std(request.target()),
                    accept == request.end() ? std::string_view() : Std(accept->value()),
                    authorization == request.end() ? std::string_view() : Std(authorization->value())};
    HttpResponse response;
    const bool head = request.method() == http::verb::head;
    if (request.method() != http::verb::get && !head) {
      response.status = 405;
      response.body = "only GET and HEAD are served here\n";
    } else {
      response = shared_->handler(req);
    }
    Send(std::move(response), request.version(), head);
  }

  void Send(HttpResponse response, unsigned version, bool head = false) {
    ++shared_->stats->requests_total;
    // HTTP/1.0 has no chunked encoding, and the answer to HEAD carries the length of the
    // body a GET would get: such a client gets the body whole.
    if (response.next_piece && (version < 11 || head)) {
      std::string piece;
      while (response.next_piece(&piece)) response.body += piece;
      response.next_piece = nullptr;
    }
    if (response.next_piece) return SendChunked(std::move(response), version);
    auto message = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status),
                                                                       version);
    message->set(http::field::server, "offmon");
    message->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) message->set(name, value);
    if (response.status == 405) message->set(http::field::allow, "GET, HEAD");
    message->keep_alive(keep_alive_);
    message->body() = std::move(response.body);
    message->prepare_payload();
    stream_.expires_after(shared_->limits.write_timeout);
    if (head) {
      // The header a GET would get, Content-Length included, and no body (RFC 9110 9.3.2).
      auto serializer = std::make_shared<http::response_serializer<http::string_body>>(*message);
      http::async_write_header(stream_, *serializer,
                               [self = shared_from_this(), message, serializer](beast::error_code ec, size_t) {
                                 self->AfterResponse(ec);
                               });
      return;
    }
    http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code ec, size_t) {
      self->AfterResponse(ec);
    });
  }

  void SendChunked(HttpResponse response, unsigned version) {
    header_.emplace(static_cast<http::status>(response.status), version);
    header_->set(http::field::server, "offmon");
    header_->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) header_->set(name, value);
    header_->keep_alive(keep_alive_);
    header_->chunked(true);
    serializer_.emplace(*header_);
    next_piece_ = std::move(response.next_piece);
    piece_ = std::move(response.body);
    stream_.expires_after(shared_->limits.write_timeout);
    http::async_write_header(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->AfterResponse(ec);
      self->WritePiece();
    });
  }

  // Writes piece_ (when not empty) as one chunk, then asks for the next; after the last,
  // the terminating chunk.
  void WritePiece() {
    while (piece_.empty()) {
      if (!next_piece_(&piece_)) {
        next_piece_ = nullptr;
        stream_.expires_after(shared_->limits.write_timeout);
        asio::async_write(stream_, http::make_chunk_last(), [self = shared_from_this()](beast::error_code ec, size_t) {
          self->serializer_.reset();
          self->header_.reset();
          self->AfterResponse(ec);
        });
        return;
      }
    }
    stream_.expires_after(shared_->limits.write_timeout);
    asio::async_write(stream_, http::make_chunk(asio::buffer(piece_)),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->AfterResponse(ec);
                        self->piece_.clear();
                        self->WritePiece();
                      });
  }

  void AfterResponse(beast::error_code ec) {
    if (ec == beast::error::timeout) {
      ++shared_->stats->timeouts_total;
      return;
    }
    if (ec) return;
    if (!keep_alive_) return Shutdown();
    ReadRequest(/*kept_alive=*/true);
  }

  void Shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  beast::flat_buffer buffer_{kMaxHeaderBytes + 1024};
  std::optional<http::request_parser<http::empty_body>> parser_;
  bool keep_alive_ = false;
  bool evicted_ = false;
  std::optional<std::list<Connection*>::iterator> waiting_;  // its place in shared_->waiting
  std::chrono::steady_clock::time_point waiting_since_;
  std::optional<http::response<http::empty_body>> header_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::function<bool(std::string*)> next_piece_;
  std::string piece_;
};

// A connection over the limit when every slot is busy answering: its request is read
// (within kRefuseTimeout); /healthz is answered as usual, so a full listener never looks
// unhealthy; anything else gets 503 with Retry-After. Then a short wait for the client to
// close, so the answer is not lost to a reset.
class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  Refusal(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    ++shared_->refusing;
  }
  ~Refusal() { --shared_->refusing; }
  Refusal(const Refusal&) = delete;
  Refusal& operator=(const Refusal&) = delete;

  void Start() {
    parser_.header_limit(kMaxHeaderBytes);
    parser_.body_limit(0);
    stream_.expires_after(kRefuseTimeout);
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == beast::error::timeout || ec == http::error::end_of_stream) return;
    if (ec && ec.category() != beast::http::make_error_code(http::error::end_of_stream).category()) return;
    HttpResponse response;
    response.status = 503;
    response.body = "too many connections\n";
    unsigned version = 11;
    bool refused = true;
    if (!ec) {
      const auto& request = parser_.get();
      version = request.version();
      if (request.method() == http::verb::get && IsHealthz(Std(request.target()))) {
        const auto accept = request.find(http::field::accept);
        response = shared_->handler(HttpRequest{Std(request.method_string()), Std(request.target()),
                                                accept == request.end() ? std::string_view() : Std(accept->value()),
                                                std::string_view()});
        std::string piece;
        while (response.next_piece && response.next_piece(&piece)) response.body += piece;
        ++shared_->stats->requests_total;
        refused = false;
      }
    }
    message_.result(static_cast<http::status>(response.status));
    message_.version(version);
    message_.set(http::field::server, "offmon");
    message_.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) message_.set(name, value);
    if (refused) message_.set(http::field::retry_after, "1");
    message_.keep_alive(false);
    message_.body() = std::move(response.body);
    message_.prepare_payload();
    stream_.expires_after(kRefuseTimeout);
    http::async_write(stream_, message_, [self = shared_from_this()](beast::error_code write_ec, size_t) {
      if (write_ec) return;
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->Drain();
    });
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->Drain();
    });
  }
  beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  beast::flat_buffer buffer_{kMaxHeaderBytes + 1024};
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> message_;
  char drain_[1024];
};

}  // namespace

struct HttpListener::Impl : std::enable_shared_from_this<HttpListener::Impl> {
  Impl(asio::io_context& io, spdlog::logger& logger) : acceptor(io), retry(io), log(logger) {}

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) {
        self->log.warn("http: accept failed, retrying: {}", ec.message());
        self->retry.expires_after(kAcceptRetry);
        self->retry.async_wait([self](beast::error_code wait_ec) {
          if (!wait_ec) self->Accept();
        });
        return;
      }
      Shared& state = *self->shared;
      auto full = [&state] {
        return static_cast<size_t>(state.stats->open_connections) >= state.limits.max_connections;
      };
      // Full: the connection that has waited longest for a request makes room (as nginx
      // does), so clients that connect and stall cannot lock others out. One that has
      // waited less than evict_after may have its request on the way (a burst of honest
      // clients): the new one is refused instead, unless refusals are full too (a flood).
      if (full() && !state.waiting.empty()) {
        Connection* oldest = state.waiting.front();
        if (std::chrono::steady_clock::now() - oldest->waiting_since() >= state.limits.evict_after ||
            state.refusing >= kMaxRefusing) {
          oldest->Evict();
        }
      }
      if (!full()) {
        std::make_shared<Connection>(std::move(socket), self->shared)->Start();
      } else {
        ++state.stats->refused_total;
        if (state.refusing < kMaxRefusing) {
          std::make_shared<Refusal>(std::move(socket), self->shared)->Start();
        }  // else the socket closes here
      }
      self->Accept();
    });
  }

  tcp::acceptor acceptor;
  asio::steady_timer retry;
  spdlog::logger& log;
  std::shared_ptr<Shared> shared;
};

Result<std::unique_ptr<HttpListener>> HttpListener::Start(asio::io_context& io, std::string_view listen,
                                                          const HttpLimits& limits, HttpHandler handler,
                                                          std::shared_ptr<HttpStats> stats, spdlog::logger& log) {
  std::string host;
  uint16_t port = 0;
  OFFMON_RETURN_IF_ERROR(ParseListenAddress(listen, &host, &port));
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument(fmt::format("http listen {}: {}", listen, ec.message()));
  auto impl = std::make_shared<Impl>(io, log);
  impl->shared = std::make_shared<Shared>();
  impl->shared->limits = limits;
  impl->shared->handler = std::move(handler);
  impl->shared->stats = std::move(stats);
  const tcp::endpoint endpoint(address, port);
  auto fail = [&](std::string_view step) {
    return Status::IOError(fmt::format("http listen {}: {}: {}", listen, step, ec.message()));
  };
  if (impl->acceptor.open(endpoint.protocol(), ec); ec) return fail("socket");
  if (impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return fail("SO_REUSEADDR");
  if (impl->acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  impl->Accept();
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(impl)));
}

HttpListener::HttpListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpListener::~HttpListener() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->retry.cancel();
}

uint16_t HttpListener::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

std::string HttpListener::address() const {
  beast::error_code ec;
  const tcp::endpoint endpoint = impl_->acceptor.local_endpoint(ec);
  const std::string host = endpoint.address().to_string();
  return endpoint.address().is_v6() ? fmt::format("[{}]:{}", host, endpoint.port())
                                    : fmt::format("{}:{}", host, endpoint.port());
}

}  // namespace offmon::serve
