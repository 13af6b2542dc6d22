#include "offmon/analyzer/alert.h"

#include <array>
#include <nlohmann/json.hpp>

namespace offmon::analyzer {

namespace {
constexpr std::array<std::string_view, 3> kSeverityNames{"INFO", "WARNING", "CRITICAL"};
constexpr std::array<std::string_view, 4> kStateNames{"pending", "firing", "escalated", "resolved"};

template <typename Enum, size_t N>
std::optional<Enum> FromName(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}
}  // namespace

std::string_view SeverityName(Severity severity) { return kSeverityNames[static_cast<size_t>(severity)]; }
std::optional<Severity> SeverityFromName(std::string_view name) { return FromName<Severity>(kSeverityNames, name); }
std::string_view AlertStateName(AlertState state) { return kStateNames[static_cast<size_t>(state)]; }
std::optional<AlertState> AlertStateFromName(std::string_view name) { return FromName<AlertState>(kStateNames, name); }

std::string Fingerprint(std::string_view alert, const Labels& labels) {
  // The series notation is canonical (sorted labels, escaped values) and already the
  // identity of everything else in the store.
  return SeriesKey(std::string(alert), labels).ToString();
}

std::string EncodeTransition(const Transition& t) {
  nlohmann::json labels = nlohmann::json::object();
  for (const Label& label : t.labels) labels[label.name] = label.value;
  nlohmann::json doc{{"alert", t.alert},
                     {"severity", SeverityName(t.severity)},
                     {"state", AlertStateName(t.state)},
                     {"labels", labels},
                     {"series", t.series},
                     {"summary", t.summary},
                     {"active_since_ms", ToMillis(t.active_since)}};
  if (!t.inhibited_by.empty()) doc["inhibited_by"] = t.inhibited_by;
  if (t.lapsed) doc["lapsed"] = true;
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Transition> DecodeTransition(std::string_view payload, TimePoint at) {
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  auto bad = [] { return Status::Corruption("alert_transition event does not decode"); };
  if (!doc.is_object() || !doc["alert"].is_string() || !doc["severity"].is_string() || !doc["state"].is_string() ||
      !doc["labels"].is_object() || !doc["active_since_ms"].is_number_integer()) {
    return bad();
  }
  Transition t;
  t.at = at;
  t.alert = doc["alert"].get<std::string>();
  auto severity = SeverityFromName(doc["severity"].get<std::string>());
  auto state = AlertStateFromName(doc["state"].get<std::string>());
  if (!severity || !state) return bad();
  t.severity = *severity;
  t.state = *state;
  Labels labels;
  for (const auto& [name, value] : doc["labels"].items()) {
    if (!value.is_string()) return bad();
    labels.push_back({name, value.get<std::string>()});
  }
  t.labels = SeriesKey("x", std::move(labels)).labels;
  t.series = doc.value("series", "");
  t.summary = doc.value("summary", "");
  t.inhibited_by = doc.value("inhibited_by", "");
  t.lapsed = doc.contains("lapsed") && doc["lapsed"].is_boolean() && doc["lapsed"].get<bool>();
  if (t.lapsed && t.state != AlertState::kPending) return bad();
  t.active_since = FromMillis(doc["active_since_ms"].get<int64_t>());
  return t;
}

}  // namespace offmon::analyzer
