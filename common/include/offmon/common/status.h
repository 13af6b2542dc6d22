// Status: the outcome of a fallible call, LevelDB-style. No exception crosses a public
// header; adapters around throwing libraries catch and return a Status with context.
// Thread safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <string>
#include <string_view>

namespace offmon {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from a user or file (a parse error, a bad flag value)
  kNotFound,
  kCorruption,       // stored bytes that do not decode, a damaged SQLite file
  kIOError,          // the OS or SQLite failed to read or write
  kDiskFull,         // no space left (SQLITE_FULL, ENOSPC)
  kReadOnly,         // the store file or directory cannot be written
  kNotAStore,        // the file is not an offmon store
  kTooNew,           // written by a newer offmon (higher schema version)
  kBusy,             // another writer holds the lock past the busy timeout
  kUnavailable,      // a monitored service could not be reached
  kTimeout,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status DiskFull(std::string msg) { return {StatusCode::kDiskFull, std::move(msg)}; }
  static Status ReadOnly(std::string msg) { return {StatusCode::kReadOnly, std::move(msg)}; }
  static Status NotAStore(std::string msg) { return {StatusCode::kNotAStore, std::move(msg)}; }
  static Status TooNew(std::string msg) { return {StatusCode::kTooNew, std::move(msg)}; }
  static Status Busy(std::string msg) { return {StatusCode::kBusy, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Timeout(std::string msg) { return {StatusCode::kTimeout, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with context, e.g. the file or operation: "import a.csv: ...".
  Status WithContext(std::string_view context) const;
  // "Corruption: <message>"-style text for logs and error lines.
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::string_view StatusCodeName(StatusCode code);

}  // namespace offmon
