// Runs a command (argv, no shell) and captures its exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace offmon::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Environment entries in `env` ("K=V") are added to this process's environment.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

}  // namespace offmon::testing
