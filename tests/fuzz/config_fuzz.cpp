// The TOML config loader on arbitrary bytes: a Config or one error line, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "offmon/common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = offmon::ParseConfig(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  if (!config && config.error().message().find('\n') != std::string::npos) __builtin_trap();
  return 0;
}
