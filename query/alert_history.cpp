#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "alert_history_impl.h"
#include "offmon/notify/notification.h"

namespace offmon::query {

using analyzer::AlertState;

std::vector<AlertEpisode> BuildEpisodes(const std::vector<analyzer::Transition>& transitions) {
  std::vector<AlertEpisode> episodes;
  std::map<std::string, size_t> open;  // fingerprint -> index in episodes
  for (const analyzer::Transition& t : transitions) {
    const std::string fingerprint = analyzer::Fingerprint(t.alert, t.labels);
    auto it = open.find(fingerprint);
    switch (t.state) {
      case AlertState::kPending:
        break;
      case AlertState::kFiring:
      case AlertState::kEscalated: {
        if (it == open.end()) {
          AlertEpisode e;
          e.alert = t.alert;
          e.labels = t.labels;
          e.severity = t.severity;
          e.active_since = t.active_since;
          e.fired_at = t.at;
          it = open.emplace(fingerprint, episodes.size()).first;
          episodes.push_back(std::move(e));
        }
        AlertEpisode& e = episodes[it->second];
        e.series = t.series;
        e.summary = t.summary;
        e.inhibited_by = t.inhibited_by;
        e.severity = std::max(e.severity, t.severity);
        if (t.state == AlertState::kEscalated) e.escalated = true;
        break;
      }
      case AlertState::kResolved:
        if (it != open.end()) {
          episodes[it->second].resolved_at = t.at;
          open.erase(it);
        }
        break;
    }
  }
  return episodes;
}

std::string_view DeliveryStateName(DeliveryState state) {
  switch (state) {
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kFailed:
      return "failed";
    case DeliveryState::kPending:
      break;
  }
  return "pending";
}

namespace {

// Every event of one kind recorded at or before `until`, page by page.
template <typename Fn>
Status ForEachEvent(store::Store& store, EventKind kind, TimePoint until, Fn fn) {
  int64_t after = 0;
  while (true) {
    auto page = store.ReadEvents(after, kind, 1024);
    if (!page) return page.error();
    if (page->empty()) return Status::Ok();
    for (const store::Event& event : *page) {
      if (event.time > until) continue;
      if (Status status = fn(event); !status.ok()) return status.WithContext(fmt::format("event {}", event.seq));
    }
    after = page->back().seq;
  }
}

}  // namespace

Result<std::vector<Delivery>> ReadDeliveries(store::Store& store, TimePoint until) {
  std::vector<Delivery> out;
  std::map<int64_t, size_t> by_seq;  // queued_seq -> index in out
  // Notifications to an Alertmanager cluster: queued_seq -> the URLs it goes to.
  std::map<int64_t, std::vector<std::string>> targets;
  Status status = ForEachEvent(store, EventKind::kNotificationQueued, until, [&](const store::Event& event) {
    auto n = notify::DecodeNotification(event.payload, event.seq);
    if (!n) return n.error();
    Delivery d;
    d.queued_seq = event.seq;
    d.id = std::move(n->id);
    d.receiver = std::move(n->receiver);
    d.key = std::move(n->key);
    d.reason = std::move(n->reason);
    d.transition_at = n->transition.at;
    d.queued_at = event.time;
    by_seq.emplace(d.queued_seq, out.size());
    if (!n->targets.empty()) targets[d.queued_seq] = std::move(n->targets);
    out.push_back(std::move(d));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  // Per notification and URL ("" for a one-URL receiver) the first outcome recorded (the
  // sender records one, and does not send a notification again once it has one).
  struct Answer {
    EventKind kind;
    TimePoint at;
    notify::Outcome outcome;
  };
  std::map<int64_t, std::map<std::string, Answer>> answers;
  for (EventKind kind : {EventKind::kNotificationDelivered, EventKind::kNotificationFailed}) {
    status = ForEachEvent(store, kind, until, [&](const store::Event& event) {
      auto outcome = notify::DecodeOutcome(event.payload);
      if (!outcome) return outcome.error();
      if (!by_seq.contains(outcome->queued_seq)) return Status::Ok();  // its notification is after `until`
      const std::string target = outcome->target;
      auto [it, added] =
          answers[outcome->queued_seq].try_emplace(target, Answer{kind, event.time, std::move(*outcome)});
      if (!added && event.time < it->second.at) it->second = Answer{kind, event.time, std::move(*outcome)};
      return Status::Ok();
    });
    if (!status.ok()) return status;
  }
  for (auto& [seq, by_target] : answers) {
    Delivery& d = out[by_seq.at(seq)];
    // The one outcome that tells: a one-URL notification's first; for a cluster, the
    // first failure, else, once every URL has answered, the last delivery (pending before).
    const Answer* tells = nullptr;
    if (auto it = targets.find(seq); it == targets.end()) {
      for (const auto& [target, answer] : by_target) {
        if (tells == nullptr || answer.at < tells->at) tells = &answer;
      }
    } else {
      bool all = true;
      for (const std::string& target : it->second) {
        auto answer = by_target.find(target);
        if (answer == by_target.end()) {
          all = false;
          continue;
        }
        const Answer& a = answer->second;
        const bool a_failed = a.kind == EventKind::kNotificationFailed;
        const bool tells_failed = tells != nullptr && tells->kind == EventKind::kNotificationFailed;
        if (tells == nullptr || (a_failed && !tells_failed) || (a_failed == tells_failed && a.at > tells->at)) {
          tells = &a;
        }
      }
      if (!all && tells != nullptr && tells->kind != EventKind::kNotificationFailed) tells = nullptr;
    }
    if (tells == nullptr) continue;
    d.state = tells->kind == EventKind::kNotificationDelivered ? DeliveryState::kDelivered : DeliveryState::kFailed;
    d.outcome_at = tells->at;
    d.status = tells->outcome.status;
    d.attempts = tells->outcome.attempts;
    d.error = tells->outcome.reason;
  }
  return out;
}

std::vector<Delivery> AttachDeliveries(std::vector<Delivery> deliveries, std::vector<AlertEpisode>* episodes) {
  std::map<std::string, std::vector<AlertEpisode*>> by_fingerprint;
  for (AlertEpisode& e : *episodes) by_fingerprint[analyzer::Fingerprint(e.alert, e.labels)].push_back(&e);
  std::vector<Delivery> unmatched;
  for (Delivery& d : deliveries) {
    AlertEpisode* match = nullptr;
    if (auto it = by_fingerprint.find(d.key); it != by_fingerprint.end()) {
      for (AlertEpisode* e : it->second) {
        if (e->fired_at <= d.transition_at && (!e->resolved_at || d.transition_at <= *e->resolved_at)) {
          match = e;
          break;
        }
      }
    }
    if (match != nullptr) {
      match->deliveries.push_back(std::move(d));
    } else {
      unmatched.push_back(std::move(d));
    }
  }
  return unmatched;
}

bool BelongsTo(const AlertEpisode& episode, const SeriesKey& key) {
  if (!episode.series.empty() && episode.series == key.ToString()) return true;
  bool shared = false;
  for (const Label& label : episode.labels) {
    auto it = std::find_if(key.labels.begin(), key.labels.end(), [&](const Label& l) { return l.name == label.name; });
    if (it == key.labels.end()) continue;
    if (it->value != label.value) return false;
    shared = true;
  }
  return shared;
}

std::string LabelsText(const Labels& labels) {
  std::string out;
  for (const Label& l : labels) {
    if (!out.empty()) out += ',';
    out += l.name;
    out += '=';
    out += l.value;
  }
  return out;
}

}  // namespace offmon::query
