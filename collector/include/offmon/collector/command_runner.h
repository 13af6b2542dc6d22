// CommandRunner: runs an external program (pm2) and captures what it prints. Collectors
// take one by reference so tests can substitute scripted programs or a fake runner.
// Thread safety: Run() may be called from several threads at once on one runner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "offmon/common/result.h"
#include "offmon/common/time.h"

namespace offmon::collector {

// What a finished program left behind.
struct CommandOutput {
  int exit_code = -1;  // the exit status when the program exited, else -1
  int signal = 0;      // the signal that ended it, else 0
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
  Duration duration{0};

  bool succeeded() const { return signal == 0 && exit_code == 0; }
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv[0] (looked up in PATH when it has no slash) with arguments argv[1..],
  // never through a shell, with `env` entries ("K=V") added to or replacing this
  // process's environment, stdin on /dev/null, and waits at most `timeout`.
  // A program that ran to its end, successfully or not, is a value; errors are:
  // NotFound ("pm2 not found in PATH") or InvalidArgument when it cannot be started,
  // Timeout ("pm2 jlist timed out after 10s") when it was killed at the deadline,
  // IOError when it printed more than the runner accepts or a system call failed.
  virtual Result<CommandOutput> Run(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env, Duration timeout) = 0;
};

// Runs programs as child processes (posix_spawn). Each child leads a new process group;
// at the deadline, or past the output cap, the whole group is killed with SIGKILL (so
// helpers the program started die too) and the child is reaped. The call returns once
// the child has exited, even when a daemon it started still holds its stdout open.
// Uses no threads, no signal handlers and no process-wide state, and leaves no
// descriptor or zombie behind.
class ProcessCommandRunner final : public CommandRunner {
 public:
  // Default cap on each of stdout and stderr: 32 MiB.
  static constexpr uint64_t kDefaultMaxOutputBytes = uint64_t{32} << 20;

  explicit ProcessCommandRunner(uint64_t max_output_bytes = kDefaultMaxOutputBytes)
      : max_output_bytes_(max_output_bytes) {}

  Result<CommandOutput> Run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                            Duration timeout) override;

 private:
  uint64_t max_output_bytes_;
};

}  // namespace offmon::collector
