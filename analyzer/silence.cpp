#include "offmon/analyzer/silence.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "offmon/store/store.h"

namespace offmon::analyzer {

namespace {

constexpr size_t kEventPage = 512;

std::string Dump(const nlohmann::json& doc) { return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

nlohmann::json LabelsObject(const Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const Label& l : labels) out[l.name] = l.value;
  return out;
}

bool IsString(const nlohmann::json& doc, const char* key) { return doc.contains(key) && doc[key].is_string(); }
bool IsInteger(const nlohmann::json& doc, const char* key) { return doc.contains(key) && doc[key].is_number_integer(); }

}  // namespace

Result<Matcher> ParseMatcher(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::InvalidArgument(fmt::format("matcher \"{}\": expected name=value", text));
  }
  Matcher m{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  // A quoted value (`process="w1"`, as alerts are printed) means the same as a bare one.
  if (m.value.size() >= 2 && m.value.front() == '"' && m.value.back() == '"') m.value = m.value.substr(1, m.value.size() - 2);
  return m;
}

std::string MatchersText(const std::vector<Matcher>& matchers) {
  std::string out;
  for (const Matcher& m : matchers) out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", m.name, m.value);
  return out;
}

bool Silence::Matches(std::string_view alert, const Labels& labels) const {
  if (matchers.empty()) return false;
  for (const Matcher& m : matchers) {
    std::string_view actual;
    if (m.name == kAlertNameLabel) {
      actual = alert;
    } else {
      for (const Label& l : labels) {
        if (l.name == m.name) actual = l.value;
      }
    }
    if (actual != m.value) return false;  // an absent label is "" (as in Prometheus)
  }
  return true;
}

std::string EncodeSilence(const Silence& s) {
  nlohmann::json matchers = nlohmann::json::array();
  for (const Matcher& m : s.matchers) matchers.push_back({{"name", m.name}, {"value", m.value}});
  return Dump({{"id", s.id},
               {"matchers", matchers},
               {"starts_ms", ToMillis(s.starts)},
               {"ends_ms", ToMillis(s.ends)},
               {"reason", s.reason},
               {"by", s.by}});
}

Result<Silence> DecodeSilence(std::string_view payload) {
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  auto bad = [] { return Status::Corruption("silence_added event does not decode"); };
  if (!doc.is_object() || !IsString(doc, "id") || !doc.contains("matchers") || !doc["matchers"].is_array() ||
      !IsInteger(doc, "starts_ms") || !IsInteger(doc, "ends_ms")) {
    return bad();
  }
  Silence s;
  s.id = doc["id"].get<std::string>();
  for (const nlohmann::json& m : doc["matchers"]) {
    if (!m.is_object() || !IsString(m, "name") || !IsString(m, "value")) return bad();
    s.matchers.push_back({m["name"].get<std::string>(), m["value"].get<std::string>()});
  }
  if (s.id.empty() || s.matchers.empty()) return bad();
  s.starts = FromMillis(doc["starts_ms"].get<int64_t>());
  s.ends = FromMillis(doc["ends_ms"].get<int64_t>());
  s.reason = IsString(doc, "reason") ? doc["reason"].get<std::string>() : "";
  s.by = IsString(doc, "by") ? doc["by"].get<std::string>() : "";
  return s;
}

std::string EncodeSilenceExpired(std::string_view id, std::string_view by) { return Dump({{"id", id}, {"by", by}}); }

Result<SilenceExpiry> DecodeSilenceExpired(std::string_view payload) {
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !IsString(doc, "id") || doc["id"].get<std::string>().empty()) {
    return Status::Corruption("silence_expired event does not decode");
  }
  return SilenceExpiry{doc["id"].get<std::string>(), IsString(doc, "by") ? doc["by"].get<std::string>() : ""};
}

std::string EncodeAcknowledgement(const Acknowledgement& a) {
  return Dump({{"key", a.key},
               {"alert", a.alert},
               {"labels", LabelsObject(a.labels)},
               {"severity", SeverityName(a.severity)},
               {"active_since_ms", ToMillis(a.active_since)},
               {"until_ms", ToMillis(a.until)},
               {"reason", a.reason},
               {"by", a.by}});
}

Result<Acknowledgement> DecodeAcknowledgement(std::string_view payload, TimePoint at) {
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  auto bad = [] { return Status::Corruption("alert_acknowledged event does not decode"); };
  if (!doc.is_object() || !IsString(doc, "key") || !IsString(doc, "alert") || !IsString(doc, "severity") ||
      !doc.contains("labels") || !doc["labels"].is_object() || !IsInteger(doc, "until_ms") ||
      !IsInteger(doc, "active_since_ms")) {
    return bad();
  }
  auto severity = SeverityFromName(doc["severity"].get<std::string>());
  if (!severity || doc["key"].get<std::string>().empty()) return bad();
  Acknowledgement a;
  a.key = doc["key"].get<std::string>();
  a.alert = doc["alert"].get<std::string>();
  Labels labels;
  for (const auto& [name, value] : doc["labels"].items()) {
    if (!value.is_string()) return bad();
    labels.push_back({name, value.get<std::string>()});
  }
  a.labels = SeriesKey("x", std::move(labels)).labels;  // sorted, as alerts hold them
  a.severity = *severity;
  a.active_since = FromMillis(doc["active_since_ms"].get<int64_t>());
  a.at = at;
  a.until = FromMillis(doc["until_ms"].get<int64_t>());
  a.reason = IsString(doc, "reason") ? doc["reason"].get<std::string>() : "";
  a.by = IsString(doc, "by") ? doc["by"].get<std::string>() : "";
  return a;
}

Status Suppressions::Apply(const store::Event& event) {
  auto context = [&event] { return fmt::format("{} event {}", EventKindName(event.kind), event.seq); };
  switch (event.kind) {
    case EventKind::kSilenceAdded: {
      auto silence = DecodeSilence(event.payload);
      if (!silence) return silence.error().WithContext(context());
      // Folding an event twice changes nothing (the first silence with an id wins).
      if (FindSilence(silence->id) == nullptr) silences_.push_back(std::move(*silence));
      break;
    }
    case EventKind::kSilenceExpired: {
      auto expiry = DecodeSilenceExpired(event.payload);
      if (!expiry) return expiry.error().WithContext(context());
      for (Silence& s : silences_) {
        if (s.id != expiry->id || s.expired_at) continue;
        s.expired_at = event.time;
        s.expired_by = expiry->by;
      }
      break;
    }
    case EventKind::kAlertAcknowledged: {
      auto ack = DecodeAcknowledgement(event.payload, event.time);
      if (!ack) return ack.error().WithContext(context());
      acks_.insert_or_assign(ack->key, std::move(*ack));
      break;
    }
    default:
      return Status::Ok();
  }
  last_seq_ = std::max(last_seq_, event.seq);
  return Status::Ok();
}

const Silence* Suppressions::SilencedBy(std::string_view alert, const Labels& labels, TimePoint now) const {
  for (const Silence& s : silences_) {
    if (s.ActiveAt(now) && s.Matches(alert, labels)) return &s;
  }
  return nullptr;
}

const Acknowledgement* Suppressions::AckFor(std::string_view fingerprint, Severity current, TimePoint episode_since,
                                            TimePoint now) const {
  auto it = acks_.find(fingerprint);
  if (it == acks_.end() || !it->second.AppliesTo(current, episode_since, now)) return nullptr;
  return &it->second;
}

const Silence* Suppressions::FindSilence(std::string_view id) const {
  for (const Silence& s : silences_) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

Result<Suppressions> ReadSuppressions(store::Store& store, TimePoint until) {
  Suppressions out;
  // Kind by kind: an expiry always follows its silence, and acknowledgements only
  // replace earlier ones of their own kind, so the order across kinds does not matter.
  for (EventKind kind : {EventKind::kSilenceAdded, EventKind::kSilenceExpired, EventKind::kAlertAcknowledged}) {
    int64_t after = 0;
    while (true) {
      auto page = store.ReadEvents(after, kind, kEventPage);
      if (!page) return page.error();
      if (page->empty()) break;
      for (const store::Event& event : *page) {
        if (event.time > until) continue;
        OFFMON_RETURN_IF_ERROR(out.Apply(event));
      }
      after = page->back().seq;
    }
  }
  return out;
}

}  // namespace offmon::analyzer
