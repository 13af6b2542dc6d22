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

// A command running in the background; its output goes to files until Wait().
class BackgroundCommand {
 public:
  BackgroundCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~BackgroundCommand();  // kills the process if still running
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;
  int pid() const { return pid_; }
  void Signal(int signo);
  // Waits for exit and returns the result; false in exit_code -1 on a timeout (then
  // the process is killed).
  CommandResult Wait(int timeout_seconds);
  std::string ErrSoFar() const;

 private:
  int pid_ = -1;
  std::string out_path_, err_path_, dir_;
};

}  // namespace offmon::testing
