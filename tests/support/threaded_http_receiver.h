// A loopback HTTP receiver on its own thread, for tests that drive other processes (the
// real `offmon collect`, Alertmanager) and wait on conditions from the test's thread. It
// listens on 127.0.0.1 (an ephemeral port), records each request and answers 200; while
// holding (Hold(true)) it records requests and leaves them unanswered with the connection
// open, as a receiver that hangs mid-request. Hold(false) closes the held connections
// without an answer and answers later requests again. AnswerNext queues other answers
// (status, body, a Retry-After header) for the next requests, one each.
//
// Thread safety: every public method may be called from any thread. The io_context runs
// on the receiver's own thread, started by the constructor and joined by the destructor.
// Compiled once, in threaded_http_receiver.cpp (see http_receiver.h).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_receiver.h"

namespace offmon::testing {

class ThreadedHttpReceiver {
 public:
  ThreadedHttpReceiver();
  ~ThreadedHttpReceiver();
  ThreadedHttpReceiver(const ThreadedHttpReceiver&) = delete;
  ThreadedHttpReceiver& operator=(const ThreadedHttpReceiver&) = delete;

  unsigned short port() const;
  std::string url(std::string_view path = "/hook") const;

  void Hold(bool hold);
  void AnswerNext(unsigned status, std::string body = "", std::string retry_after = "");

  std::vector<ReceivedRequest> requests() const;
  size_t request_count() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace offmon::testing
