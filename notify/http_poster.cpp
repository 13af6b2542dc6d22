#include "http_poster_impl.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

#include "tls_client_impl.h"

namespace offmon::notify {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
constexpr size_t kMaxResponseBytes = 64 * 1024;
constexpr size_t kMaxBodyKept = 1024;
}  // namespace

// One request's state. Callbacks hold it alive; `finished_` makes late ones no-ops: a
// resolve or connect that completes after Cancel() must not go on to send (the receiver
// may be back by then, and the request would reach it from a lane that was stopped).
class HttpPoster::Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& io, const HttpUrl& url, asio::ssl::context* tls, Duration timeout,
           http::request<http::string_body> request, Done done)
      : url_(url), resolver_(io), watchdog_(io), request_(std::move(request)), done_(std::move(done)) {
    if (url_.https && tls != nullptr) {
      tls_stream_.emplace(io, *tls);
    } else {
      stream_.emplace(io);
    }
    watchdog_.expires_after(timeout);
    timeout_text_ = FormatDurationShort(timeout);
  }

  void Start() {
    watchdog_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;  // resolving, connecting, the handshake and the exchange
      self->resolver_.cancel();
      self->Close();
    });
    resolver_.async_resolve(url_.host, url_.port,
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        const tcp::resolver::results_type& results) {
                              if (self->finished_) return;
                              if (ec) return self->Fail("cannot resolve the host", ec);
                              self->Connect(results);
                            });
  }

  void Cancel() {
    finished_ = true;
    watchdog_.cancel();
    resolver_.cancel();
    Close();
  }

 private:
  void Connect(const tcp::resolver::results_type& results) {
    auto connected = [self = shared_from_this()](const boost::system::error_code& ec, const tcp::endpoint&) {
      if (self->finished_) return;
      if (ec) return self->Fail("cannot connect", ec);
      if (self->tls_stream_) return self->Handshake();
      self->Write(*self->stream_);
    };
    if (stream_) return stream_->async_connect(results, std::move(connected));
    if (std::string why; !PrepareTlsConnection(tls_stream_->native_handle(), url_.host, &why)) {
      return Finish(HttpPostResult{.error = "TLS: " + why});
    }
    beast::get_lowest_layer(*tls_stream_).async_connect(results, std::move(connected));
  }

  void Handshake() {
    tls_stream_->async_handshake(asio::ssl::stream_base::client,
                                 [self = shared_from_this()](const boost::system::error_code& ec) {
                                   if (self->finished_) return;
                                   if (!ec) return self->Write(*self->tls_stream_);
                                   if (auto why = CertificateRejection(self->tls_stream_->native_handle())) {
                                     return self->Finish(HttpPostResult{.error = *why, .certificate_rejected = true});
                                   }
                                   self->Fail("TLS handshake failed", ec);
                                 });
  }

  template <typename Stream>
  void Write(Stream& stream) {
    http::async_write(stream, request_, [self = shared_from_this(), &stream](const boost::system::error_code& ec, size_t) {
      if (ec) return self->Fail("cannot send", ec);
      self->parser_.body_limit(kMaxResponseBytes);
      http::async_read(stream, self->buffer_, self->parser_,
                       [self](const boost::system::error_code& read_ec, size_t) {
                         if (read_ec && !self->WholeDespiteTruncation(read_ec)) return self->Fail("no response", read_ec);
                         self->Respond();
                       });
    });
  }

  // A receiver may close TLS without close_notify after a body that ends at the close.
  bool WholeDespiteTruncation(const boost::system::error_code& ec) {
    if (ec != asio::ssl::error::stream_truncated || !parser_.is_header_done()) return false;
    boost::system::error_code eof;
    parser_.put_eof(eof);
    return !eof && parser_.is_done();
  }

  void Respond() {
    const auto& response = parser_.get();
    HttpPostResult result;
    result.status = static_cast<int>(response.result_int());
    result.body = response.body().substr(0, kMaxBodyKept);
    for (char& c : result.body) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    if (auto it = response.find(http::field::retry_after); it != response.end()) result.retry_after = std::string(it->value());
    Finish(std::move(result));
  }

  void Fail(std::string_view what, const boost::system::error_code& ec) {
    Finish(HttpPostResult{.error = timed_out_ ? fmt::format("timed out after {}", timeout_text_)
                                              : fmt::format("{}: {}", what, ec.message())});
  }

  void Finish(HttpPostResult result) {
    if (finished_) return;
    finished_ = true;
    watchdog_.cancel();
    Close();
    Done done = std::move(done_);
    done(std::move(result));
  }

  void Close() {
    boost::system::error_code ignored;
    if (stream_) stream_->socket().close(ignored);
    if (tls_stream_) beast::get_lowest_layer(*tls_stream_).socket().close(ignored);
  }

  HttpUrl url_;
  tcp::resolver resolver_;
  asio::steady_timer watchdog_;
  std::optional<beast::tcp_stream> stream_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  http::request<http::string_body> request_;
  http::response_parser<http::string_body> parser_;
  beast::flat_buffer buffer_;
  Done done_;
  std::string timeout_text_;
  bool timed_out_ = false;
  bool finished_ = false;
};

HttpPoster::HttpPoster(asio::io_context& io, HttpUrl url, asio::ssl::context* tls, Duration timeout)
    : io_(io), url_(std::move(url)), tls_(tls), timeout_(timeout) {}

HttpPoster::~HttpPoster() { Cancel(); }

void HttpPoster::Post(http::request<http::string_body> request, Done done) {
  Cancel();
  request.set(http::field::host, HttpHostHeader(url_));
  request.prepare_payload();
  current_ = std::make_shared<Exchange>(io_, url_, tls_, timeout_, std::move(request), std::move(done));
  current_->Start();
}

void HttpPoster::Cancel() {
  if (current_) current_->Cancel();
  current_.reset();
}

}  // namespace offmon::notify
