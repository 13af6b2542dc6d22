// DaemonLock: at most one daemon (offmon collect, offmon check) per store.
//
// Two daemons on one store would record every alert transition twice and both notify.
// Other writers (import, silence, ack, store maintenance) are legitimate while a daemon
// runs, so this is not SQLite's write lock but an flock(2) on a file beside the store,
// `<store>.lock`, holding the holder's pid for the refusal message. The OS releases it
// when the process exits in any way (SIGKILL included), so it is never left stuck; the
// file itself stays and is reused.
//
// Thread safety: a DaemonLock is owned by one thread; the lock belongs to the process.
#pragma once

#include <filesystem>

#include "offmon/common/result.h"

namespace offmon::store {

class DaemonLock {
 public:
  DaemonLock(DaemonLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DaemonLock& operator=(DaemonLock&& other) noexcept;
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;
  ~DaemonLock();

 private:
  friend Result<DaemonLock> LockStoreForDaemon(const std::filesystem::path& store_path);
  explicit DaemonLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The lock file of the store at store_path: "<store_path>.lock".
std::filesystem::path DaemonLockPath(const std::filesystem::path& store_path);

// Takes the daemon lock of the store at store_path without waiting, creating the lock
// file (and the store's directory) when missing. Busy when another process holds it,
// naming that process's pid (exit code 16); ReadOnly or IOError when the lock file
// cannot be created or locked.
Result<DaemonLock> LockStoreForDaemon(const std::filesystem::path& store_path);

}  // namespace offmon::store
