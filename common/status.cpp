#include "offmon/common/status.h"

#include <string>

namespace offmon {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIOError: return "I/O error";
    case StatusCode::kDiskFull: return "disk full";
    case StatusCode::kReadOnly: return "read-only";
    case StatusCode::kNotAStore: return "not an offmon store";
    case StatusCode::kTooNew: return "store too new";
    case StatusCode::kBusy: return "busy";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kTimeout: return "timeout";
  }
  return "unknown";
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

}  // namespace offmon
