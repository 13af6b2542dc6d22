// PM2's own RPC, spoken directly: the question `pm2 jlist` asks the PM2 daemon, without
// starting node for it (a `pm2 jlist` costs about 0.4 CPU s, most of it node loading
// pm2; the call below costs a connect, a write and a read). Internal to the collector;
// the tests and the fuzz target include it.
//
// The protocol, as pm2 7 ships it (node_modules/pm2/modules/pm2-axon, pm2-axon-rpc and
// the amp package):
//   framing   one amp message: a meta byte (protocol version 1 in the high nibble, the
//             argument count, at most 15, in the low one), then per argument a 32-bit
//             big-endian length and that many bytes; an argument "j:<json>" is JSON,
//             "s:<text>" a string
//   request   on the daemon's req/rep socket $PM2_HOME/rpc.sock: two arguments,
//             j:{"type":"call","method":M,"args":[{}]} and s:<request id>
//   reply     two arguments, j:{"args":[VALUE]} (or j:{"error":MESSAGE}) and the id
// getMonitorData's VALUE is the array `pm2 jlist` prints.
//
// Thread safety: pure functions, and CallPm2Daemon uses only its own descriptor.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "offmon/common/result.h"
#include "offmon/common/time.h"

namespace offmon::collector {

// A reply larger than this is refused: pm2_env carries each process's environment, a few
// KiB each, so a list of a thousand processes stays well under it.
inline constexpr size_t kMaxPm2ReplyBytes = size_t{64} << 20;

// `args` holds at most 15 arguments (the meta byte's nibble).
std::string EncodeAmpMessage(const std::vector<std::string>& args);

struct AmpMessage {
  std::vector<std::string> args;
  size_t size = 0;  // bytes of the buffer it took
};

// The message at the start of `buffer`; nullopt while it is incomplete. InvalidArgument
// when the bytes cannot be one (a version other than 1, or more than `max_size` bytes).
Result<std::optional<AmpMessage>> DecodeAmpMessage(std::string_view buffer, size_t max_size = kMaxPm2ReplyBytes);

// Calls `method` with one empty-object argument on the daemon listening at `socket` and
// returns the first value it answered. Errors, one line each, never quoting the reply (it
// holds the processes' environments): Unavailable when the daemon cannot be reached or
// hangs up ("PM2 daemon: connect to <socket>: Connection refused"), Timeout when it does
// not answer within `timeout` ("PM2 daemon did not answer within 10s"), InvalidArgument
// when the reply is not what pm2 sends or carries the method's error.
Result<nlohmann::json> CallPm2Daemon(const std::filesystem::path& socket, std::string_view method, Duration timeout);

}  // namespace offmon::collector
