#include "offmon/analyzer/notification_router.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace offmon::analyzer {

namespace {

bool Wants(const ReceiverConfig& r, std::string_view transition) {
  return std::find(r.transitions.begin(), r.transitions.end(), transition) != r.transitions.end();
}

Severity MinSeverity(const ReceiverConfig& r) { return SeverityFromName(r.min_severity).value_or(Severity::kWarning); }

// FNV-1a, 64 bit: a stable id from the notification's identity.
std::string StableId(std::string_view receiver, std::string_view reason, TimePoint at, std::string_view key) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    h ^= 0xff;  // separator
    h *= 1099511628211ULL;
  };
  mix(receiver);
  mix(reason);
  mix(std::to_string(ToMillis(at)));
  mix(key);
  return fmt::format("{:016x}", h);
}

}  // namespace

NotificationRouter::NotificationRouter(const NotifyConfig& config) : config_(config) {}

Notification NotificationRouter::Make(const ReceiverConfig& receiver, std::string reason, const Transition& t,
                                      std::string key) {
  Notification n;
  n.id = StableId(receiver.name, reason, t.at, key);
  n.receiver = receiver.name;
  n.key = std::move(key);
  n.reason = std::move(reason);
  n.transition = t;
  return n;
}

std::vector<Notification> NotificationRouter::Route(const std::vector<Transition>& transitions) {
  std::vector<Notification> out;
  std::set<std::string> escalating;  // alerts escalating in this evaluation
  for (const Transition& t : transitions) {
    if (t.state == AlertState::kEscalated) escalating.insert(Fingerprint(t.alert, t.labels));
  }
  for (const Transition& t : transitions) {
    if (t.state == AlertState::kPending || t.severity == Severity::kInfo) continue;
    const std::string fingerprint = Fingerprint(t.alert, t.labels);
    for (const ReceiverConfig& r : config_.receivers) {
      const auto episode = std::make_pair(r.name, fingerprint);
      const bool notified = notified_.contains(episode);
      if (t.state == AlertState::kResolved) {
        if (notified && Wants(r, "resolved")) out.push_back(Make(r, "resolved", t, fingerprint));
        notified_.erase(episode);
        continue;
      }
      if (t.severity < MinSeverity(r) || !t.inhibited_by.empty()) continue;
      bool send = false;
      if (t.state == AlertState::kFiring) {
        // A new episode, or a severity change of one this receiver was told about; one
        // notification when it escalates in the same evaluation.
        const bool coalesced = escalating.contains(fingerprint) && Wants(r, "escalated");
        send = !coalesced && (notified || Wants(r, "firing"));
      } else if (t.state == AlertState::kEscalated) {
        send = Wants(r, "escalated");
      }
      if (!send) continue;
      out.push_back(Make(r, AlertStateName(t.state).data(), t, fingerprint));
      notified_[episode] = t.at;
    }
  }
  return out;
}

std::vector<Notification> NotificationRouter::Repeats(TimePoint now, const std::map<std::string, ActiveAlert>& active) {
  std::vector<Notification> out;
  for (const ReceiverConfig& r : config_.receivers) {
    if (r.repeat_interval <= Duration(0)) continue;
    for (auto it = notified_.lower_bound({r.name, ""}); it != notified_.end() && it->first.first == r.name; ++it) {
      if (now - it->second < r.repeat_interval) continue;
      auto alert = active.find(it->first.second);
      if (alert == active.end() || !alert->second.firing) continue;
      const ActiveAlert& a = alert->second;
      Transition t{now,       a.alert,    a.severity, a.escalated ? AlertState::kEscalated : AlertState::kFiring,
                   a.labels,  a.series,   a.summary,  a.active_since,
                   a.inhibited_by};
      out.push_back(Make(r, "repeat", t, it->first.second));
      it->second = now;
    }
  }
  return out;
}

void NotificationRouter::Apply(const Notification& queued) {
  const auto episode = std::make_pair(queued.receiver, queued.key);
  if (queued.reason == "resolved") {
    notified_.erase(episode);
  } else {
    notified_[episode] = queued.transition.at;
  }
}

}  // namespace offmon::analyzer
