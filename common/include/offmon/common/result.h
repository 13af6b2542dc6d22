// Result<T>: a value or a non-ok Status, shaped like C++23 std::expected so it can be
// replaced by it. Thread safety: a value type.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "offmon/common/status.h"

namespace offmon {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::move(value)) {}                  // NOLINT: implicit by design
  Result(Status status) : storage_(std::move(status)) {            // NOLINT: implicit by design
    assert(!std::get<Status>(storage_).ok());
  }

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<T>(storage_); }
  const T& value() const& { return std::get<T>(storage_); }
  T&& value() && { return std::get<T>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The failure; Status::Ok() when a value is held.
  Status error() const { return has_value() ? Status::Ok() : std::get<Status>(storage_); }

 private:
  std::variant<T, Status> storage_;
};

}  // namespace offmon

// Returns early from the enclosing function with the error of a failed Status.
#define OFFMON_RETURN_IF_ERROR(expr)           \
  do {                                         \
    ::offmon::Status offmon_status_ = (expr);  \
    if (!offmon_status_.ok()) return offmon_status_; \
  } while (0)
