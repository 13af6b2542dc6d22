// A minimal blocking HTTP/1.1 client for tests of the daemon's listener: raw requests
// over a loopback socket, read until the server closes (requests say Connection: close),
// chunked bodies decoded. Every receive has a timeout, so a test never hangs on it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace offmon::testing {

struct HttpReply {
  int status = 0;       // 0 when no status line arrived
  std::string headers;  // the status line and headers
  std::string body;     // decoded
  std::string error;    // a socket error, or empty
  bool ok() const { return error.empty() && status != 0; }
};

// A connected loopback socket (-1 on failure) with receive and send timeouts.
inline int ConnectLoopback(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A loopback port free at the time of the call, for a server that cannot report the one
// it chose (Prometheus, Alertmanager). 0 when no socket could be bound.
inline uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  return bound ? ntohs(addr.sin_port) : 0;
}

inline std::string Dechunk(std::string_view body) {
  std::string out;
  while (!body.empty()) {
    const size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) break;
    const size_t size = std::stoul(std::string(body.substr(0, eol)), nullptr, 16);
    if (size == 0) break;
    out.append(body.substr(eol + 2, size));
    body.remove_prefix(std::min(body.size(), eol + 2 + size + 2));
  }
  return out;
}

// Reads until the peer closes or a receive times out, and parses what came.
inline HttpReply ReadReply(int fd) {
  HttpReply reply;
  std::string raw;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0) reply.error = std::string("recv: ") + strerror(errno);
    break;
  }
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) {
    if (reply.error.empty() && !raw.empty()) reply.error = "no HTTP response: " + raw.substr(0, 200);
    return reply;
  }
  reply.status = std::stoi(raw.substr(9, 3));
  reply.headers = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  if (reply.headers.find("Transfer-Encoding: chunked") != std::string::npos) reply.body = Dechunk(reply.body);
  return reply;
}

inline HttpReply RawHttp(uint16_t port, std::string_view request,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  HttpReply reply;
  const int fd = ConnectLoopback(port, timeout);
  if (fd < 0) {
    reply.error = std::string("connect: ") + strerror(errno);
    return reply;
  }
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    reply.error = std::string("send: ") + strerror(errno);
    ::close(fd);
    return reply;
  }
  reply = ReadReply(fd);
  ::close(fd);
  return reply;
}

inline HttpReply HttpGet(uint16_t port, std::string_view target, std::string_view extra_headers = "") {
  return RawHttp(port, std::string("GET ") + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                           std::string(extra_headers) + "Connection: close\r\n\r\n");
}

}  // namespace offmon::testing
