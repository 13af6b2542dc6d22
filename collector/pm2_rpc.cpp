#include "pm2_rpc_impl.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "pm2_jlist_parser_impl.h"
#include "unique_fd_impl.h"

namespace offmon::collector {

namespace {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;

constexpr unsigned kAmpVersion = 1;
constexpr size_t kAmpLengthBytes = 4;
constexpr size_t kReadChunk = 64 * 1024;

// Unique per call within this process, so a reply can be matched to its request.
std::string NextRequestId() {
  static std::atomic<uint64_t> counter{0};
  return fmt::format("offmon-{}:{}", getpid(), counter.fetch_add(1));
}

class Deadline {
 public:
  explicit Deadline(Duration timeout) : timeout_(timeout), end_(SteadyClock::now() + timeout) {}
  // Milliseconds left, for poll(); 0 once passed.
  int64_t MillisLeft() const {
    return std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(end_ - SteadyClock::now()).count());
  }
  Status Expired() const {
    return Status::Timeout(fmt::format("PM2 daemon did not answer within {}", FormatDurationSetting(timeout_)));
  }

 private:
  Duration timeout_;
  SteadyClock::time_point end_;
};

// Waits for `events` on `fd` until the deadline: Timeout once it passes.
Status WaitFor(int fd, short events, const Deadline& deadline) {
  while (true) {
    const int64_t left = deadline.MillisLeft();
    if (left == 0) return deadline.Expired();
    pollfd p{fd, events, 0};
    const int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
    if (rc > 0) return Status::Ok();
    if (rc < 0 && errno != EINTR) return Status::Unavailable(fmt::format("PM2 daemon: poll: {}", std::strerror(errno)));
  }
}

Result<UniqueFd> Connect(const std::filesystem::path& socket_path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string& native = socket_path.native();
  if (native.size() >= sizeof(address.sun_path)) {
    return Status::InvalidArgument(fmt::format("PM2 daemon: socket path too long: {}", native));
  }
  std::memcpy(address.sun_path, native.c_str(), native.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.open()) return Status::Unavailable(fmt::format("PM2 daemon: socket: {}", std::strerror(errno)));
  // A unix socket connects at once or fails (EAGAIN: the daemon's backlog is full).
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Status::Unavailable(fmt::format("PM2 daemon: connect to {}: {}", native, std::strerror(errno)));
  }
  return fd;
}

Status SendAll(int fd, std::string_view bytes, const Deadline& deadline) {
  while (!bytes.empty()) {
    const ssize_t sent = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      bytes.remove_prefix(static_cast<size_t>(sent));
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return Status::Unavailable(fmt::format("PM2 daemon: send: {}", std::strerror(errno)));
    }
    OFFMON_RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline));
  }
  return Status::Ok();
}

// Reads until the reply carrying `id` is complete, and returns its first argument.
Result<std::string> ReceiveReply(int fd, std::string_view id, const Deadline& deadline) {
  std::string buffer;
  char chunk[kReadChunk];
  while (true) {
    auto message = DecodeAmpMessage(buffer);
    if (!message) return message.error();
    if (*message) {
      if ((*message)->args.size() == 2 && (*message)->args[1] == id) return std::move((*message)->args[0]);
      buffer.erase(0, (*message)->size);  // not ours: a reply to no request of this connection
      continue;
    }
    const ssize_t got = recv(fd, chunk, sizeof(chunk), 0);
    if (got > 0) {
      buffer.append(chunk, static_cast<size_t>(got));
      continue;
    }
    if (got == 0) return Status::Unavailable("PM2 daemon closed the connection before answering");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Status::Unavailable(fmt::format("PM2 daemon: receive: {}", std::strerror(errno)));
    }
    OFFMON_RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline));
  }
}

}  // namespace

std::string EncodeAmpMessage(const std::vector<std::string>& args) {
  std::string out;
  out.push_back(static_cast<char>(kAmpVersion << 4 | (args.size() & 0xf)));
  for (const std::string& arg : args) {
    const auto length = static_cast<uint32_t>(arg.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((length >> shift) & 0xff));
    out += arg;
  }
  return out;
}

Result<std::optional<AmpMessage>> DecodeAmpMessage(std::string_view buffer, size_t max_size) {
  if (buffer.empty()) return std::optional<AmpMessage>();
  const auto meta = static_cast<unsigned char>(buffer[0]);
  if ((meta >> 4) != kAmpVersion) {
    return Status::InvalidArgument(fmt::format("PM2 daemon: reply is not an amp message (version {})", meta >> 4));
  }
  AmpMessage message;
  const size_t argc = meta & 0xf;
  size_t offset = 1;
  for (size_t i = 0; i < argc; ++i) {
    if (buffer.size() < offset + kAmpLengthBytes) return std::optional<AmpMessage>();
    uint32_t length = 0;
    for (size_t b = 0; b < kAmpLengthBytes; ++b) length = length << 8 | static_cast<unsigned char>(buffer[offset + b]);
    offset += kAmpLengthBytes;
    if (length > max_size || offset + length > max_size) {
      return Status::InvalidArgument(fmt::format("PM2 daemon: reply larger than {} MiB", max_size >> 20));
    }
    if (buffer.size() < offset + length) return std::optional<AmpMessage>();
    message.args.emplace_back(buffer.substr(offset, length));
    offset += length;
  }
  message.size = offset;
  return std::optional<AmpMessage>(std::move(message));
}

Result<json> CallPm2Daemon(const std::filesystem::path& socket, std::string_view method, Duration timeout) {
  const Deadline deadline(timeout);
  auto fd = Connect(socket);
  if (!fd) return fd.error();
  const std::string id = "s:" + NextRequestId();
  const json request = {{"type", "call"}, {"method", method}, {"args", json::array({json::object()})}};
  OFFMON_RETURN_IF_ERROR(SendAll(fd->get(), EncodeAmpMessage({"j:" + request.dump(), id}), deadline));
  auto reply = ReceiveReply(fd->get(), id, deadline);
  if (!reply) return reply.error();

  if (reply->rfind("j:", 0) != 0) return Status::InvalidArgument("PM2 daemon: reply is not JSON");
  json parsed = json::parse(reply->begin() + 2, reply->end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return Status::InvalidArgument("PM2 daemon: reply is not JSON");
  if (auto error = parsed.find("error"); error != parsed.end()) {
    // Only a string is shown: anything else could be one of pm2's objects, environment and all.
    const std::string text = error->is_string() ? FirstLine(error->get<std::string>()) : "(no message)";
    return Status::InvalidArgument(fmt::format("PM2 daemon: {} failed: {}", method, text));
  }
  auto args = parsed.find("args");
  if (args == parsed.end() || !args->is_array() || args->empty()) {
    return Status::InvalidArgument(fmt::format("PM2 daemon: {} answered no value", method));
  }
  return std::move((*args)[0]);
}

}  // namespace offmon::collector
