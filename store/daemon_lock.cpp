#include "offmon/store/daemon_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace offmon::store {

namespace {

Status LockFileError(const std::filesystem::path& path, int err) {
  std::string msg = fmt::format("daemon lock {}: {}", path.string(), std::strerror(err));
  if (err == EACCES || err == EROFS || err == EPERM) return Status::ReadOnly(std::move(msg));
  return Status::IOError(std::move(msg));
}

// The pid the holder wrote, or "unknown" (it may not have written it yet).
std::string HolderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "unknown";
  std::string text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() || text.find_first_not_of("0123456789") != std::string::npos ? "unknown" : text;
}

}  // namespace

DaemonLock& DaemonLock::operator=(DaemonLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DaemonLock::~DaemonLock() {
  // Closing the descriptor releases the flock.
  if (fd_ >= 0) close(fd_);
}

std::filesystem::path DaemonLockPath(const std::filesystem::path& store_path) {
  return std::filesystem::path(store_path.string() + ".lock");
}

Result<DaemonLock> LockStoreForDaemon(const std::filesystem::path& store_path) {
  const std::filesystem::path path = DaemonLockPath(store_path);
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return Status::IOError(fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
  }
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return LockFileError(path, errno);
  DaemonLock lock(fd);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) return LockFileError(path, err);
    return Status::Busy(fmt::format(
        "{} is in use by another offmon daemon (pid {}); stop it first, or give this one another --store",
        store_path.string(), HolderPid(fd)));
  }
  const std::string pid = fmt::format("{}\n", getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return LockFileError(path, errno);
  }
  return Result<DaemonLock>(std::move(lock));
}

}  // namespace offmon::store
