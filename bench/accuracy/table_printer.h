// Prints the suite's results as markdown: the one comparison table (offmon and each
// peer side by side per alert kind), the per-family breakdown, and the targets.
#pragma once

#include <ostream>
#include <string>

#include "results.h"

namespace offmon::accuracy {

struct RunInfo {
  std::string date;     // UTC, RFC 3339
  std::string machine;  // host, CPU model, cores
  std::string command;  // the command line as run
  std::string subset;   // "fast" or "full"
  uint64_t seed = 0;
  double elapsed_seconds = 0;
};

void PrintTable(std::ostream& out, const RunInfo& info, const Results& results);
void PrintFamilies(std::ostream& out, const Results& results);
// MemoryLeak per leak rate: found / leaks and median lead before the 4 GiB crossing.
void PrintLeakRates(std::ostream& out, const Results& results);
// Returns the number of targets missed.
int PrintTargets(std::ostream& out, const Results& results);

}  // namespace offmon::accuracy
