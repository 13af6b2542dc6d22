// Fuzzes the `pm2 jlist` parser: it must never crash, throw or hang; every process it
// returns has a name and sane counters; every error is one short line that quotes no
// JSON object (pm2_env holds secrets), so no '{' ever appears in a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pm2_jlist_parser_impl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
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
