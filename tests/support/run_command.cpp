#include "support/run_command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "support/temp_dir.h"

namespace offmon::testing {

namespace {

pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& out_path,
            const std::string& err_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int ExitCodeOf(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  TempDir dir;
  const std::string out_path = (dir / "out").string(), err_path = (dir / "err").string();
  pid_t pid = Spawn(argv, env, out_path, err_path);
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult result;
  result.exit_code = ExitCodeOf(status);
  result.out = ReadFileBytes(out_path);
  result.err = ReadFileBytes(err_path);
  return result;
}

BackgroundCommand::BackgroundCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::string pattern = (std::filesystem::temp_directory_path() / "offmon-cmd-XXXXXX").string();
  dir_ = mkdtemp(pattern.data());
  out_path_ = dir_ + "/out";
  err_path_ = dir_ + "/err";
  pid_ = Spawn(argv, env, out_path_, err_path_);
}

BackgroundCommand::~BackgroundCommand() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void BackgroundCommand::Signal(int signo) {
  if (pid_ > 0) kill(pid_, signo);
}

std::string BackgroundCommand::ErrSoFar() const { return ReadFileBytes(err_path_); }

CommandResult BackgroundCommand::Wait(int timeout_seconds) {
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int status = 0;
  while (pid_ > 0) {
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      result.exit_code = ExitCodeOf(status);
      pid_ = -1;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      break;
    }
    // Polling a child's exit with a deadline: there is no portable wait-with-timeout.
    usleep(10'000);
  }
  result.out = ReadFileBytes(out_path_);
  result.err = ReadFileBytes(err_path_);
  return result;
}

}  // namespace offmon::testing
