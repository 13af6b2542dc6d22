// EventLedger: what the rules need from the store's non-sample events, folded up to the
// evaluation time: each collector's latest failure, each PM2 process's latest status and log paths, and
// data-loss incidents (a sealed epoch that vanished, or whose root or participant set
// changed after it was first seen). It reads the log incrementally, so a daemon pays only
// for new events and a backtest reads each event once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "offmon/store/store.h"

namespace offmon::analyzer {

class EventLedger {
 public:
  struct Failure {
    TimePoint at;
    std::string reason;
  };
  struct DataLoss {
    TimePoint at;
    std::string channel;
    int64_t epoch = 0;
    std::string what;
  };

  // follow: keep looking for events written after the last read (a live daemon); a
  // backtest reads the log as it is and stops asking once it has read it all.
  EventLedger(store::Store& store, bool follow) : store_(store), follow_(follow) {}

  // Folds in every event with time <= t not folded yet.
  Status AdvanceTo(TimePoint t);

  const std::map<std::string, Failure, std::less<>>& failures() const { return failures_; }
  struct ProcessInfo {
    std::string status, out_log, err_log;
  };
  const std::map<std::string, ProcessInfo, std::less<>>& processes() const { return processes_; }
  const std::vector<DataLoss>& data_loss() const { return data_loss_; }

 private:
  struct Cursor {
    explicit Cursor(EventKind k) : kind(k) {}
    EventKind kind;
    int64_t after_seq = 0;
    std::vector<store::Event> pending;  // read, not yet reached by the evaluation time
    size_t next = 0;
    bool exhausted = false;
  };
  Status Advance(Cursor& cursor, TimePoint t);
  void Fold(const store::Event& event);

  store::Store& store_;
  bool follow_;
  std::vector<Cursor> cursors_{Cursor(EventKind::kCollectorFailure), Cursor(EventKind::kProcessInfo),
                               Cursor(EventKind::kEpochSealed), Cursor(EventKind::kEpochVanished)};
  std::map<std::string, Failure, std::less<>> failures_;
  std::map<std::string, ProcessInfo, std::less<>> processes_;
  // (channel, epoch) -> (root, hash of the participant set) as last seen.
  std::map<std::pair<std::string, int64_t>, std::pair<std::string, size_t>> sealed_;
  std::vector<DataLoss> data_loss_;
};

}  // namespace offmon::analyzer
