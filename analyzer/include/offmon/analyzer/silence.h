// Silences and acknowledgements: people telling offmon to hold back notifications.
//
// A Silence mutes every alert its matchers select (exact label matches; the alert name is
// the matcher "alertname") from `starts` until `ends`, or until expired by hand. An
// Acknowledgement is about one active alert (its fingerprint): it stops the alert's
// repeats and escalation until it expires, the alert changes severity, or the episode
// ends (a new episode is not acknowledged). Both are events in the store
// (kSilenceAdded, kSilenceExpired, kAlertAcknowledged); Suppressions is their projection.
// Routing honours them (notification_router.h), the report shows them.
// docs/notifications.md, "Silences and acknowledgements".
//
// Thread safety: values and free functions; ReadSuppressions uses the store from the
// calling thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/analyzer/alert.h"
#include "offmon/common/result.h"
#include "offmon/common/series_key.h"
#include "offmon/common/status.h"
#include "offmon/common/time.h"
#include "offmon/store/event.h"

namespace offmon::store {
class Store;
}

namespace offmon::analyzer {

// The label name that matches the alert's name.
inline constexpr std::string_view kAlertNameLabel = "alertname";

// `name` must equal `value` exactly.
struct Matcher {
  std::string name, value;
  friend bool operator==(const Matcher&, const Matcher&) = default;
};

// Parses "name=value" (the value may be empty, the name may not). InvalidArgument naming
// the text otherwise.
Result<Matcher> ParseMatcher(std::string_view text);
// `alertname="ProcessOffline",process="w1"`: matchers for people.
std::string MatchersText(const std::vector<Matcher>& matchers);

struct Silence {
  std::string id;
  std::vector<Matcher> matchers;  // at least one; all must match
  TimePoint starts, ends;
  std::string reason, by;
  std::optional<TimePoint> expired_at;  // ended by hand (kSilenceExpired)
  std::string expired_by;
  friend bool operator==(const Silence&, const Silence&) = default;

  // When it stops applying: `ends`, or earlier when expired by hand.
  TimePoint end() const { return expired_at && *expired_at < ends ? *expired_at : ends; }
  bool ActiveAt(TimePoint now) const { return starts <= now && now < end(); }
  // Every matcher matches the alert (name as "alertname") and its labels.
  bool Matches(std::string_view alert, const Labels& labels) const;
};

struct Acknowledgement {
  std::string key;  // the alert fingerprint
  std::string alert;
  Labels labels;
  Severity severity = Severity::kWarning;  // the severity acknowledged
  TimePoint active_since;                  // the episode acknowledged
  TimePoint at;                            // when it was acknowledged (the event's time)
  TimePoint until;
  std::string reason, by;
  friend bool operator==(const Acknowledgement&, const Acknowledgement&) = default;

  // Not expired, and about this episode at this severity: a severity change or a new
  // episode voids it.
  bool AppliesTo(Severity current, TimePoint episode_since, TimePoint now) const {
    return now < until && current == severity && episode_since == active_since;
  }
};

// Event payloads (JSON) and back; Corruption when a payload does not decode or breaks
// an invariant (no matchers, an empty id or key).
std::string EncodeSilence(const Silence& silence);
Result<Silence> DecodeSilence(std::string_view payload);
std::string EncodeSilenceExpired(std::string_view id, std::string_view by);
struct SilenceExpiry {
  std::string id, by;
};
Result<SilenceExpiry> DecodeSilenceExpired(std::string_view payload);
std::string EncodeAcknowledgement(const Acknowledgement& ack);
Result<Acknowledgement> DecodeAcknowledgement(std::string_view payload, TimePoint at);

// The projection of the silence and acknowledgement events: what is muted when. Expired
// silences and acknowledgements are kept (for listing) but never apply.
class Suppressions {
 public:
  // Folds in one event of kind kSilenceAdded, kSilenceExpired or kAlertAcknowledged
  // (other kinds are ignored). Corruption naming the event when its payload does not
  // decode; an expiry of an unknown silence is ignored. Folding events again, in order,
  // changes nothing.
  Status Apply(const store::Event& event);

  // The first silence (in order added) that matches the alert and is active at `now`,
  // or null.
  const Silence* SilencedBy(std::string_view alert, const Labels& labels, TimePoint now) const;
  // The alert's latest acknowledgement when it applies at `now` to the episode that
  // started at `episode_since` at severity `current`, or null.
  const Acknowledgement* AckFor(std::string_view fingerprint, Severity current, TimePoint episode_since,
                                TimePoint now) const;

  const Silence* FindSilence(std::string_view id) const;
  // Every silence, in order added (expired ones too).
  const std::vector<Silence>& silences() const { return silences_; }
  // The latest acknowledgement of each alert, by fingerprint.
  const std::map<std::string, Acknowledgement, std::less<>>& acks() const { return acks_; }
  // The highest sequence number folded in (0 when none).
  int64_t last_seq() const { return last_seq_; }

 private:
  std::vector<Silence> silences_;
  std::map<std::string, Acknowledgement, std::less<>> acks_;
  int64_t last_seq_ = 0;
};

// The store's silence and acknowledgement events written at or before `until`, folded.
// The store's read errors, or Corruption naming a bad event.
Result<Suppressions> ReadSuppressions(store::Store& store, TimePoint until = TimePoint::max());

}  // namespace offmon::analyzer
