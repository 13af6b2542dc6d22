// /proc/PID/stat parsing and the line/word tokenizer on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "offmon/collector/process_collector.h"
#include "offmon/collector/proc_fs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)offmon::collector::ParseProcStat(text).has_value();
  offmon::collector::ProcLines lines(text);
  std::string_view line, word;
  size_t words = 0;
  while (lines.Next(&line)) {
    while (offmon::collector::NextWord(&line, &word)) {
      if (word.empty()) __builtin_trap();  // a word is never empty
      ++words;
    }
  }
  return words > size ? 1 : 0;
}
