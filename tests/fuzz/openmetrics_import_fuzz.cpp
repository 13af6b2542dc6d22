// Fuzzes the OpenMetrics / Prometheus text importer (the first byte picks the timestamp
// unit): no crash, throw or hang; plausible lines; one-line reasons; round-tripping series.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "offmon/collector/import_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto unit = (data[0] & 1) ? offmon::collector::TimestampUnit::kMilliseconds
                                  : offmon::collector::TimestampUnit::kSeconds;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::istringstream in(text);
  size_t last_row_line = 0;
  offmon::collector::ParseOpenMetricsImport(
      in, unit,
      [&](offmon::collector::ImportRow&& row) {
        if (row.line == 0 || row.line <= last_row_line) std::abort();
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
