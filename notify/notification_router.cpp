#include "offmon/notify/notification_router.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace offmon::notify {

namespace {

bool Wants(const ReceiverConfig& r, std::string_view transition) {
  return std::find(r.transitions.begin(), r.transitions.end(), transition) != r.transitions.end();
}

analyzer::Severity MinSeverity(const ReceiverConfig& r) {
  return analyzer::SeverityFromName(r.min_severity).value_or(analyzer::Severity::kWarning);
}

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

Notification NotificationRouter::Make(const ReceiverConfig& receiver, std::string reason, const analyzer::Transition& t,
                                      std::string key) {
  Notification n;
  n.id = StableId(receiver.name, reason, t.at, key);
  n.receiver = receiver.name;
  n.key = std::move(key);
  n.reason = std::move(reason);
  n.transition = t;
  n.targets = DeliveryTargets(receiver);
  return n;
}

std::vector<Notification> NotificationRouter::Route(const std::vector<analyzer::Transition>& transitions,
                                                   const analyzer::Suppressions& suppressions) {
  std::vector<Notification> out;
  std::set<std::string> escalating;  // alerts whose escalation in this evaluation is sent
  for (const analyzer::Transition& t : transitions) {
    if (t.state != analyzer::AlertState::kEscalated) continue;
    const std::string fingerprint = analyzer::Fingerprint(t.alert, t.labels);
    if (suppressions.SilencedBy(t.alert, t.labels, t.at) != nullptr ||
        suppressions.AckFor(fingerprint, t.severity, t.active_since, t.at) != nullptr) {
      continue;
    }
    escalating.insert(fingerprint);
  }
  for (const analyzer::Transition& t : transitions) {
    if (t.state == analyzer::AlertState::kPending || t.severity == analyzer::Severity::kInfo) continue;
    const std::string fingerprint = analyzer::Fingerprint(t.alert, t.labels);
    const bool resolved = t.state == analyzer::AlertState::kResolved;
    const bool silenced = !resolved && suppressions.SilencedBy(t.alert, t.labels, t.at) != nullptr;
    const bool acked = !resolved && suppressions.AckFor(fingerprint, t.severity, t.active_since, t.at) != nullptr;
    for (const ReceiverConfig& r : config_.receivers) {
      const auto episode = std::make_pair(r.name, fingerprint);
      const bool notified = Notified(r.name, fingerprint, t.active_since) != nullptr;
      if (resolved) {
        if (notified && Wants(r, "resolved")) out.push_back(Make(r, "resolved", t, fingerprint));
        notified_.erase(episode);
        continue;
      }
      if (t.severity < MinSeverity(r) || !t.inhibited_by.empty() || silenced) continue;
      bool send = false;
      if (t.state == analyzer::AlertState::kFiring) {
        // A new episode, or a severity change of one this receiver was told about; one
        // notification when it escalates in the same evaluation.
        const bool coalesced = escalating.contains(fingerprint) && Wants(r, "escalated");
        send = !coalesced && (notified || Wants(r, "firing"));
      } else if (t.state == analyzer::AlertState::kEscalated) {
        send = Wants(r, "escalated") && !acked;
      }
      if (!send) continue;
      out.push_back(Make(r, analyzer::AlertStateName(t.state).data(), t, fingerprint));
      Record(out.back());
    }
  }
  return out;
}

std::vector<Notification> NotificationRouter::Reconcile(TimePoint now,
                                                        const std::map<std::string, analyzer::ActiveAlert>& active,
                                                        const analyzer::Suppressions& suppressions) {
  std::vector<Notification> out;
  for (const ReceiverConfig& r : config_.receivers) {
    const analyzer::Severity min_severity = MinSeverity(r);
    for (const auto& entry : active) {
      const std::string& fingerprint = entry.first;
      const analyzer::ActiveAlert& a = entry.second;
      if (!a.firing || a.severity == analyzer::Severity::kInfo || a.severity < min_severity || !a.inhibited_by.empty())
        continue;
      if (suppressions.SilencedBy(a.alert, a.labels, now) != nullptr) continue;
      const bool acked = suppressions.AckFor(fingerprint, a.severity, a.active_since, now) != nullptr;
      const bool wants_escalation = a.escalated && Wants(r, "escalated") && !acked;
      const Episode* episode = Notified(r.name, fingerprint, a.active_since);
      std::string_view reason;
      if (episode == nullptr) {
        reason = wants_escalation ? "escalated" : Wants(r, "firing") ? "firing" : "";
      } else if (wants_escalation && !episode->escalated) {
        reason = "escalated";
      }
      if (reason.empty()) continue;
      const analyzer::AlertState state =
          reason == "escalated" ? analyzer::AlertState::kEscalated : analyzer::AlertState::kFiring;
      const analyzer::Transition t{now,      a.alert,  a.severity, state, a.labels, a.series, a.summary, a.active_since,
                         a.inhibited_by};
      out.push_back(Make(r, std::string(reason), t, fingerprint));
      Record(out.back());
    }
  }
  return out;
}

std::vector<Notification> NotificationRouter::HealResolves(TimePoint now,
                                                          const std::map<std::string, analyzer::ActiveAlert>& active) {
  std::vector<Notification> out;
  if (!heal_pending_) return out;
  heal_pending_ = false;
  for (auto it = notified_.begin(); it != notified_.end();) {
    Episode& e = it->second;
    if (!e.restored) {
      ++it;
      continue;
    }
    e.restored = false;
    const auto alert = active.find(it->first.second);
    if (alert != active.end() && alert->second.active_since == e.active_since) {
      ++it;
      continue;
    }
    // The alert resolved (or lapsed into a new episode) and the resolve was never queued.
    const auto receiver = std::find_if(config_.receivers.begin(), config_.receivers.end(),
                                       [&](const ReceiverConfig& r) { return r.name == it->first.first; });
    if (receiver != config_.receivers.end() && Wants(*receiver, "resolved")) {
      analyzer::Transition t = e.told;
      t.at = now;
      t.state = analyzer::AlertState::kResolved;
      out.push_back(Make(*receiver, "resolved", t, it->first.second));
    }
    it = notified_.erase(it);
  }
  return out;
}

std::vector<Notification> NotificationRouter::Repeats(TimePoint now,
                                                      const std::map<std::string, analyzer::ActiveAlert>& active,
                                                      const analyzer::Suppressions& suppressions) {
  std::vector<Notification> out;
  for (const ReceiverConfig& r : config_.receivers) {
    if (r.repeat_interval <= Duration(0)) continue;
    for (auto it = notified_.lower_bound({r.name, ""}); it != notified_.end() && it->first.first == r.name; ++it) {
      if (now - it->second.last < r.repeat_interval) continue;
      auto alert = active.find(it->first.second);
      if (alert == active.end() || !alert->second.firing) continue;
      const analyzer::ActiveAlert& a = alert->second;
      if (it->second.active_since != a.active_since) continue;  // told of an earlier episode only
      if (suppressions.SilencedBy(a.alert, a.labels, now) != nullptr) continue;
      // Acknowledged: no repeats, except to Alertmanager, which drops an alert at its
      // endsAt unless it is re-sent (and has silences of its own).
      const analyzer::Acknowledgement* ack = suppressions.AckFor(it->first.second, a.severity, a.active_since, now);
      if (ack != nullptr && r.type != "alertmanager") continue;
      analyzer::Transition t{
          now,           a.alert,
          a.severity,    a.escalated ? analyzer::AlertState::kEscalated : analyzer::AlertState::kFiring,
          a.labels,      a.series,
          a.summary,     a.active_since,
          a.inhibited_by};
      out.push_back(Make(r, "repeat", t, it->first.second));
      if (ack != nullptr) {
        out.back().acknowledged_by = ack->by;
        out.back().acknowledged_until = ack->until;
      }
      it->second.last = now;
      it->second.escalated = it->second.escalated || a.escalated;
    }
  }
  return out;
}

void NotificationRouter::Record(const Notification& n) {
  const auto episode = std::make_pair(n.receiver, n.key);
  if (n.reason == "resolved") {
    notified_.erase(episode);
    return;
  }
  Episode& e = notified_[episode];
  if (e.active_since != n.transition.active_since) e = Episode{n.transition.active_since, {}, false, false, {}};
  e.last = n.transition.at;
  e.told = n.transition;
  e.escalated = e.escalated || n.reason == "escalated" || n.transition.state == analyzer::AlertState::kEscalated;
}

const NotificationRouter::Episode* NotificationRouter::Notified(const std::string& receiver,
                                                                const std::string& fingerprint,
                                                                TimePoint active_since) const {
  auto it = notified_.find(std::make_pair(receiver, fingerprint));
  return it != notified_.end() && it->second.active_since == active_since ? &it->second : nullptr;
}

void NotificationRouter::Apply(const Notification& queued) {
  Record(queued);
  heal_pending_ = true;
  if (auto it = notified_.find(std::make_pair(queued.receiver, queued.key)); it != notified_.end()) {
    it->second.restored = true;
  }
}

}  // namespace offmon::notify
