// A clock that only moves when a test moves it.
#pragma once

#include "offmon/common/time.h"

namespace offmon::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }
  void Set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

}  // namespace offmon::testing
