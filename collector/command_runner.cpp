#include "offmon/collector/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iterator>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

#include "unique_fd_impl.h"

extern char** environ;

namespace offmon::collector {

namespace {

using SteadyClock = std::chrono::steady_clock;

// While the child lives and its pipes are open, poll wakes on output or EOF; this tick
// bounds how late we notice an exit whose pipes a grandchild (a daemon) keeps open.
constexpr auto kExitCheckTick = std::chrono::milliseconds(50);
// Once both pipes are closed only the exit is awaited, which follows within moments.
constexpr auto kReapTick = std::chrono::milliseconds(2);

// RAII for the posix_spawn option objects, whose destroy calls are easy to miss on an
// early return.
class SpawnOptions {
 public:
  SpawnOptions() {
    actions_ok_ = posix_spawn_file_actions_init(&actions) == 0;
    attr_ok_ = posix_spawnattr_init(&attr) == 0;
  }
  ~SpawnOptions() {
    if (actions_ok_) posix_spawn_file_actions_destroy(&actions);
    if (attr_ok_) posix_spawnattr_destroy(&attr);
  }
  SpawnOptions(const SpawnOptions&) = delete;
  SpawnOptions& operator=(const SpawnOptions&) = delete;
  bool ok() const { return actions_ok_ && attr_ok_; }

  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};

 private:
  bool actions_ok_ = false;
  bool attr_ok_ = false;
};

// The program and its arguments as they read in messages: "pm2 jlist", shortened.
std::string DisplayName(const std::vector<std::string>& argv) {
  std::string_view program = argv[0];
  if (auto slash = program.rfind('/'); slash != std::string_view::npos) program.remove_prefix(slash + 1);
  std::string text(program);
  for (size_t i = 1; i < argv.size(); ++i) fmt::format_to(std::back_inserter(text), " {}", argv[i]);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

std::string FormatBytes(uint64_t bytes) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  if (bytes >= kMiB && bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
  return fmt::format("{} bytes", bytes);
}

// This process's environment with `extra` added; an extra entry replaces one of the
// same name. Reading `environ` races with setenv() elsewhere, as any exec does.
std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  auto key_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> merged;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool replaced = std::any_of(extra.begin(), extra.end(),
                                [&](const std::string& x) { return key_of(x) == key_of(entry); });
    if (!replaced) merged.emplace_back(entry);
  }
  merged.insert(merged.end(), extra.begin(), extra.end());
  return merged;
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (const std::string& s : strings) result.push_back(const_cast<char*>(s.c_str()));
  result.push_back(nullptr);
  return result;
}

// Blocks until `pid` is reaped; the caller has made sure it is exiting.
int ReapBlocking(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Kills the child's process group, and the child itself in case it left the group.
// Only called while the child is unreaped, so its pid (and group id) cannot have been
// reused by an unrelated process.
void KillGroup(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

enum class ReadResult { kOpen, kClosed, kTooMuch, kError };

// Reads what is available without blocking, appending to `buffer`.
ReadResult ReadAvailable(UniqueFd& fd, std::string& buffer, uint64_t max_bytes) {
  std::array<char, 65536> chunk;
  while (true) {
    ssize_t n = read(fd.get(), chunk.data(), chunk.size());
    if (n > 0) {
      buffer.append(chunk.data(), static_cast<size_t>(n));
      if (buffer.size() > max_bytes) return ReadResult::kTooMuch;
      continue;
    }
    if (n == 0) {
      fd.Reset();
      return ReadResult::kClosed;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::kOpen;
    const int error = errno;
    fd.Reset();
    errno = error;  // for the caller's message; close() may have changed it
    return ReadResult::kError;
  }
}

}  // namespace

Result<CommandOutput> ProcessCommandRunner::Run(const std::vector<std::string>& argv,
                                                const std::vector<std::string>& env, Duration timeout) {
  if (argv.empty() || argv[0].empty()) return Status::InvalidArgument("command: empty argv");
  const std::string name = DisplayName(argv);
  const auto started = SteadyClock::now();
  const auto deadline = started + timeout;

  // O_CLOEXEC so a program another thread spawns meanwhile cannot inherit our write
  // ends, which would keep our reads from ever seeing EOF.
  std::array<int, 2> out_pipe{-1, -1}, err_pipe{-1, -1};
  if (pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
    return Status::IOError(fmt::format("{}: pipe: {}", name, std::strerror(errno)));
  }
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    return Status::IOError(fmt::format("{}: pipe: {}", name, std::strerror(errno)));
  }
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);

  SpawnOptions options;
  if (!options.ok()) return Status::IOError(fmt::format("{}: posix_spawn setup failed", name));
  // dup2 onto 1 and 2 clears close-on-exec there, so the child gets exactly these.
  posix_spawn_file_actions_adddup2(&options.actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&options.actions, err_write.get(), STDERR_FILENO);
  posix_spawn_file_actions_addopen(&options.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // A group of its own lets a timeout kill helpers the program started as well. Signal
  // state is reset so a parent that ignores SIGPIPE or blocks signals does not pass that on.
  sigset_t no_signals, all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setpgroup(&options.attr, 0);
  posix_spawnattr_setsigmask(&options.attr, &no_signals);
  posix_spawnattr_setsigdefault(&options.attr, &all_signals);
  posix_spawnattr_setflags(&options.attr, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                             POSIX_SPAWN_SETSIGDEF));

  const std::vector<std::string> environment = MergedEnvironment(env);
  std::vector<char*> c_argv = CStrings(argv), c_env = CStrings(environment);
  pid_t pid = -1;
  // posix_spawnp reports exec failures (ENOENT, EACCES) as its result: glibc's child
  // shares memory with the parent until exec.
  const int spawn_error =
      posix_spawnp(&pid, c_argv[0], &options.actions, &options.attr, c_argv.data(), c_env.data());
  out_write.Reset();
  err_write.Reset();
  if (spawn_error != 0) {
    const bool has_slash = argv[0].find('/') != std::string::npos;
    if (spawn_error == ENOENT) {
      return Status::NotFound(has_slash ? fmt::format("{} not found", argv[0])
                                        : fmt::format("{} not found in PATH", argv[0]));
    }
    if (spawn_error == EACCES) return Status::InvalidArgument(fmt::format("{} is not executable", argv[0]));
    return Status::IOError(fmt::format("{}: cannot start: {}", argv[0], std::strerror(spawn_error)));
  }

  for (UniqueFd* fd : {&out_read, &err_read}) fcntl(fd->get(), F_SETFL, fcntl(fd->get(), F_GETFL) | O_NONBLOCK);

  CommandOutput result;
  int status = 0;
  bool exited = false;
  auto fail = [&](Status s) -> Result<CommandOutput> {
    KillGroup(pid);
    ReapBlocking(pid);
    return s;
  };
  auto read_from = [&](UniqueFd& fd, std::string& buffer, std::string_view stream) -> Status {
    switch (ReadAvailable(fd, buffer, max_output_bytes_)) {
      case ReadResult::kTooMuch:
        return Status::IOError(
            fmt::format("{} wrote more than {} to {}", name, FormatBytes(max_output_bytes_), stream));
      case ReadResult::kError:
        return Status::IOError(fmt::format("{}: reading its {}: {}", name, stream, std::strerror(errno)));
      default:
        return Status::Ok();
    }
  };

  while (true) {
    if (pid_t r = waitpid(pid, &status, WNOHANG); r == pid) {
      exited = true;
    } else if (r < 0 && errno != EINTR) {
      return Status::IOError(fmt::format("{}: waitpid: {}", name, std::strerror(errno)));
    }
    if (exited) {
      // Everything the child wrote is in the pipes by now; what a surviving grandchild
      // may add later is not ours to wait for.
      for (auto [fd, buffer, stream] : {std::tuple{&out_read, &result.out, "stdout"},
                                        std::tuple{&err_read, &result.err, "stderr"}}) {
        if (fd->open()) {
          if (Status s = read_from(*fd, *buffer, stream); !s.ok()) return s;
        }
      }
      break;
    }

    const auto now = SteadyClock::now();
    if (now >= deadline) {
      return fail(Status::Timeout(fmt::format("{} timed out after {}", name, FormatDurationSetting(timeout))));
    }
    const bool any_open = out_read.open() || err_read.open();
    auto wait = std::min<SteadyClock::duration>(deadline - now, any_open ? kExitCheckTick : kReapTick);
    std::array<pollfd, 2> fds{};
    nfds_t count = 0;
    for (UniqueFd* fd : {&out_read, &err_read}) {
      if (fd->open()) fds[count++] = pollfd{fd->get(), POLLIN, 0};
    }
    const int wait_ms =
        static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
    if (poll(fds.data(), count, wait_ms) < 0 && errno != EINTR) {
      return fail(Status::IOError(fmt::format("{}: poll: {}", name, std::strerror(errno))));
    }
    for (auto [fd, buffer, stream] : {std::tuple{&out_read, &result.out, "stdout"},
                                      std::tuple{&err_read, &result.err, "stderr"}}) {
      if (fd->open()) {
        if (Status s = read_from(*fd, *buffer, stream); !s.ok()) return fail(s);
      }
    }
  }

  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.duration = std::chrono::duration_cast<Duration>(SteadyClock::now() - started);
  return result;
}

}  // namespace offmon::collector
