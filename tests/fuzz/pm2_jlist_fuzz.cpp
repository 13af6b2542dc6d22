// Fuzzes the `pm2 jlist` parser, and the amp framing of the PM2 daemon's replies on the
// same bytes: neither may crash, throw or hang; every process the parser returns has a
// name and sane counters; a decoded amp message accounts for exactly the bytes it took;
// every error is one short line that quotes no JSON object (pm2_env holds secrets), so no
// '{' ever appears in a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pm2_jlist_parser_impl.h"
#include "pm2_rpc_impl.h"

namespace {

void CheckAmpFraming(std::string_view bytes) {
  auto framed = offmon::collector::DecodeAmpMessage(bytes, size_t{1} << 16);
  if (!framed) {
    if (framed.error().message().find('{') != std::string::npos) std::abort();
    return;
  }
  if (!*framed) return;  // incomplete
  size_t taken = 1;
  for (const std::string& arg : (*framed)->args) taken += 4 + arg.size();
  if (taken != (*framed)->size || taken > bytes.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckAmpFraming(text);
  auto parsed = offmon::collector::ParsePm2Jlist(text);
  if (parsed) {
    for (const auto& p : parsed->processes) {
      if (p.name.empty() || p.status.empty()) std::abort();
      if (p.restart_time < 0 || p.unstable_restarts < 0) std::abort();
      if (p.cpu_percent && !(*p.cpu_percent >= 0)) std::abort();
    }
    return 0;
  }
  const std::string message = parsed.error().message();
  if (message.empty() || message.size() > 200) std::abort();
  if (message.find_first_of("\r\n") != std::string::npos) std::abort();
  if (message.rfind("pm2 jlist: ", 0) != 0) std::abort();
  if (message.find('{') != std::string::npos) std::abort();
  return 0;
}
