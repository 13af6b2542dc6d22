// What every benchmark program reports beside its figures, so a number can be traced to
// the machine and command that measured it: the CPU model, the core count, the command
// line and the date. Header-only; bench programs only.
#pragma once

#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <thread>

#include "offmon/common/time.h"

namespace offmon {

// "model name" of /proc/cpuinfo's first processor, or "unknown".
inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

// Adds cpu_model, nproc, command_line and date_utc to the benchmark's context.
inline void AddMachineContext(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i > 0 ? " " : "") + std::string(argv[i]);
  benchmark::AddCustomContext("cpu_model", CpuModel());
  benchmark::AddCustomContext("nproc", std::to_string(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("command_line", command_line);
  benchmark::AddCustomContext("date_utc", FormatRfc3339(SystemClock().Now()));
}

}  // namespace offmon
