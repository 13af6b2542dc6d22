#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "event_ledger_impl.h"

namespace offmon::analyzer {

namespace {
constexpr size_t kPage = 256;  // events per read: bounds memory with bitmaps in payloads
constexpr Duration kRemember = std::chrono::days(7);
}  // namespace

Status EventLedger::AdvanceTo(TimePoint t) {
  for (Cursor& cursor : cursors_) OFFMON_RETURN_IF_ERROR(Advance(cursor, t));
  // The collector re-reads sealed epochs for two days; older ones cannot change again.
  const int64_t oldest = ToMillis(t - kRemember) / 1000;
  std::erase_if(sealed_, [&](const auto& entry) { return entry.first.second < oldest; });
  return Status::Ok();
}

Status EventLedger::Advance(Cursor& cursor, TimePoint t) {
  while (true) {
    if (cursor.next == cursor.pending.size()) {
      if (cursor.exhausted) return Status::Ok();
      auto page = store_.ReadEvents(cursor.after_seq, cursor.kind, kPage);
      if (!page) return page.error();
      if (page->empty()) {
        cursor.exhausted = !follow_;
        return Status::Ok();
      }
      cursor.after_seq = page->back().seq;
      cursor.pending = std::move(*page);
      cursor.next = 0;
    }
    // Events of one kind are written in time order (up to a cycle's skew); stop at the
    // first one past t and keep it for a later evaluation.
    const store::Event& event = cursor.pending[cursor.next];
    if (event.time > t) return Status::Ok();
    Fold(event);
    ++cursor.next;
  }
}

void EventLedger::Fold(const store::Event& event) {
  if (event.kind == EventKind::kEpochSealed) {
    auto record = store::DecodeEpochEvent(event);
    if (!record) return;  // `store check` reports undecodable events
    auto key = std::make_pair(record->channel, record->epoch);
    // kNoSet: a count-only observation (backfilled history, or a set read in a later
    // cycle): there is no set to compare, and the first set seen later is no change.
    constexpr size_t kNoSet = 0;
    const size_t set_hash = record->has_participant_set() ? std::hash<std::string>{}(record->bitmap) : kNoSet;
    auto [it, inserted] = sealed_.try_emplace(key, record->root, set_hash);
    if (inserted) return;
    auto& [root, bitmap] = it->second;
    // Sealed epochs are immutable by design: a new root or participant set is data loss
    // or corruption (the guide: escalate immediately). `published` may change.
    const bool root_changed = record->root != root;
    if (root_changed) {
      data_loss_.push_back(
          {event.time, record->channel, record->epoch, fmt::format("root changed from {} to {}", root, record->root)});
    } else if (set_hash != kNoSet && bitmap != kNoSet && set_hash != bitmap) {
      data_loss_.push_back({event.time, record->channel, record->epoch,
                            fmt::format("participant set changed ({} participants now)", record->participants)});
    }
    root = record->root;
    if (set_hash != kNoSet || root_changed) bitmap = set_hash;
    return;
  }
  nlohmann::json doc = nlohmann::json::parse(event.payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return;
  if (event.kind == EventKind::kCollectorFailure) {
    failures_[doc.value("collector", "")] = Failure{event.time, doc.value("reason", "")};
  } else if (event.kind == EventKind::kProcessInfo) {
    processes_[doc.value("process", "")] =
        ProcessInfo{doc.value("status", ""), doc.value("out_log", ""), doc.value("err_log", "")};
  } else if (event.kind == EventKind::kEpochVanished) {
    const std::string channel = doc.value("channel", "");
    const int64_t epoch = doc.value("epoch", int64_t{0});
    data_loss_.push_back({event.time, channel, epoch, "sealed epoch disappeared from the database"});
    sealed_.erase(std::make_pair(channel, epoch));
  }
}

}  // namespace offmon::analyzer
