// A real store that refuses events of the chosen kinds, as SQLite does when the disk is
// full or another writer holds the lock too long; everything else reaches the real store.
// Unit tests use it where a real full filesystem cannot be had (tools/soak.sh fills a
// real tmpfs).
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/store/store.h"

namespace offmon::testing {

class RefusingStore : public store::Store {
 public:
  explicit RefusingStore(store::Store& inner) : inner_(inner) {}
  std::set<EventKind> refuse;  // event kinds whose AppendEvent fails

  std::unique_ptr<store::Appender> NewAppender(std::string source) override { return inner_.NewAppender(source); }
  Result<int64_t> AppendEvent(EventKind kind, std::string_view source, std::string_view payload, TimePoint at) override {
    if (refuse.contains(kind)) return Status::IOError("database or disk is full");
    return inner_.AppendEvent(kind, source, payload, at);
  }
  Status Checkpoint() override { return inner_.Checkpoint(); }
  Status ApplyRetention(TimePoint now) override { return inner_.ApplyRetention(now); }
  Status Rebuild() override { return inner_.Rebuild(); }
  Result<std::vector<store::SeriesInfo>> Select(const store::Selector& selector) override {
    return inner_.Select(selector);
  }
  Result<std::vector<Sample>> ReadRange(store::SeriesId series, TimePoint from, TimePoint to) override {
    return inner_.ReadRange(series, from, to);
  }
  Result<std::vector<store::LatestSample>> ReadLatest(TimePoint since) override { return inner_.ReadLatest(since); }
  Result<std::vector<store::RollupBucket>> ReadRollup(store::SeriesId series, store::RollupStep step, TimePoint from,
                                                      TimePoint to) override {
    return inner_.ReadRollup(series, step, from, to);
  }
  Result<std::vector<store::EpochRecord>> ReadEpochs(TimePoint from, TimePoint to) override {
    return inner_.ReadEpochs(from, to);
  }
  Result<std::vector<store::Event>> ReadEvents(int64_t after_seq, std::optional<EventKind> kind,
                                               size_t limit) override {
    return inner_.ReadEvents(after_seq, kind, limit);
  }
  Result<store::StoreInfo> Info() override { return inner_.Info(); }
  Result<std::vector<std::string>> Check() override { return inner_.Check(); }
  Result<SeriesKey> SeriesKeyOf(store::SeriesId id) override { return inner_.SeriesKeyOf(id); }
  Result<std::vector<store::ForwardEvent>> ReadForwardEvents(int64_t after_seq, size_t max_samples) override {
    return inner_.ReadForwardEvents(after_seq, max_samples);
  }
  Result<int64_t> OpenRemoteWriteCursor(std::string_view endpoint, TimePoint now) override {
    return inner_.OpenRemoteWriteCursor(endpoint, now);
  }
  Status AdvanceRemoteWriteCursor(std::string_view endpoint, int64_t seq, TimePoint now) override {
    return inner_.AdvanceRemoteWriteCursor(endpoint, seq, now);
  }
  Result<std::vector<store::RemoteWriteCursor>> RemoteWriteCursors(TimePoint now) override {
    return inner_.RemoteWriteCursors(now);
  }

 private:
  store::Store& inner_;
};

}  // namespace offmon::testing
