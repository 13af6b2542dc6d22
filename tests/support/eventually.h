// Waiting on a condition with a deadline instead of sleeping a fixed time: tests that
// drive real processes (the daemon, Prometheus) poll what they can observe.
#pragma once

#include <chrono>
#include <thread>

namespace offmon::testing {

// Polls `condition` every 100 ms until it holds (true) or `deadline` passes (its last
// value).
template <typename F>
bool Eventually(F condition, std::chrono::seconds deadline = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling a condition with a deadline
  }
  return condition();
}

}  // namespace offmon::testing
