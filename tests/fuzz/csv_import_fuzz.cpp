// Fuzzes the CSV importer: it must never crash, throw or hang, every reported line must be
// plausible, every reason one line, and every accepted series must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "offmon/collector/import_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  size_t last_row_line = 0;
  offmon::collector::ParseCsvImport(
      in,
      [&](offmon::collector::ImportRow&& row) {
        // The header is line 1 at the earliest, so a row is at line 2 or later, in order.
        if (row.line < 2 || row.line <= last_row_line) std::abort();
        last_row_line = row.line;
        auto again = offmon::ParseSeriesKey(row.series.ToString());
        if (!again || !(*again == row.series)) std::abort();
      },
      [&](size_t line, const std::string& reason) {
        if (line == 0 || reason.empty() || reason.size() > 512) std::abort();
        if (reason.find_first_of("\r\n") != std::string::npos) std::abort();
      });
  return 0;
}
