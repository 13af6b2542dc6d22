// One accepted plain-HTTP connection of the loopback receivers (http_receiver.cpp,
// threaded_http_receiver.cpp): its socket, read buffer, request and answer.
#pragma once

#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace offmon::testing {

struct HttpConnection {
  explicit HttpConnection(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}
  boost::asio::ip::tcp::socket socket;
  boost::beast::flat_buffer buffer;
  boost::beast::http::request<boost::beast::http::string_body> request;
  boost::beast::http::response<boost::beast::http::string_body> response;
};

}  // namespace offmon::testing
