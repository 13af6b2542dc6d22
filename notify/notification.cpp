#include "offmon/notify/notification.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "offmon/notify/notification_payload.h"
#include "json_dump_impl.h"

namespace offmon::notify {

std::vector<std::string> DeliveryTargets(const ReceiverConfig& receiver) {
  std::vector<std::string> out;
  for (const std::string& url : receiver.urls) {
    const std::string redacted = RedactHttpUrl(url);
    std::string name = redacted;
    for (int n = 2; std::find(out.begin(), out.end(), name) != out.end(); ++n) name = fmt::format("{}#{}", redacted, n);
    out.push_back(std::move(name));
  }
  return out;
}

bool ForTarget(const Notification& n, std::string_view target) {
  return target.empty() || n.targets.empty() ||
         std::find(n.targets.begin(), n.targets.end(), target) != n.targets.end();
}

bool OutcomeCounts(std::string_view outcome_target, std::string_view target) {
  return target.empty() || outcome_target.empty() || outcome_target == target;
}

std::string EncodeNotification(const Notification& n) {
  nlohmann::json transition = nlohmann::json::parse(analyzer::EncodeTransition(n.transition));
  transition["at_ms"] = ToMillis(n.transition.at);
  nlohmann::json doc{
      {"id", n.id}, {"receiver", n.receiver}, {"key", n.key}, {"reason", n.reason}, {"transition", transition}};
  if (n.acknowledged_until) {
    doc["acknowledged"] = {{"by", n.acknowledged_by}, {"until_ms", ToMillis(*n.acknowledged_until)}};
  }
  if (!n.targets.empty()) doc["targets"] = n.targets;
  return DumpJson(doc);
}

Result<Notification> DecodeNotification(std::string_view payload, int64_t seq) {
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  auto bad = [] { return Status::Corruption("notification_queued event does not decode"); };
  if (!doc.is_object() || !doc["id"].is_string() || !doc["receiver"].is_string() || !doc["key"].is_string() ||
      !doc["reason"].is_string() || !doc["transition"].is_object() || !doc["transition"]["at_ms"].is_number_integer()) {
    return bad();
  }
  auto transition =
      analyzer::DecodeTransition(doc["transition"].dump(), FromMillis(doc["transition"]["at_ms"].get<int64_t>()));
  if (!transition) return bad();
  Notification n;
  n.seq = seq;
  n.id = doc["id"].get<std::string>();
  n.receiver = doc["receiver"].get<std::string>();
  n.key = doc["key"].get<std::string>();
  n.reason = doc["reason"].get<std::string>();
  n.transition = std::move(*transition);
  if (doc.contains("acknowledged") && doc["acknowledged"].is_object() &&
      doc["acknowledged"]["until_ms"].is_number_integer()) {
    n.acknowledged_until = FromMillis(doc["acknowledged"]["until_ms"].get<int64_t>());
    n.acknowledged_by = doc["acknowledged"].value("by", "");
  }
  if (doc.contains("targets")) {
    if (!doc["targets"].is_array()) return bad();
    for (const nlohmann::json& t : doc["targets"]) {
      if (!t.is_string()) return bad();
      n.targets.push_back(t.get<std::string>());
    }
  }
  return n;
}

std::string EncodeDelivered(const Notification& n, int status, int attempts, std::string_view target) {
  nlohmann::json doc{
      {"id", n.id}, {"receiver", n.receiver}, {"queued_seq", n.seq}, {"status", status}, {"attempts", attempts}};
  if (!target.empty()) doc["target"] = target;
  return DumpJson(doc);
}

std::string EncodeFailed(const Notification& n, int status, std::string_view reason, int attempts,
                         std::string_view target) {
  nlohmann::json doc{{"id", n.id},       {"receiver", n.receiver}, {"queued_seq", n.seq},
                     {"status", status}, {"reason", reason},       {"attempts", attempts}};
  if (!target.empty()) doc["target"] = target;
  return DumpJson(doc);
}

Result<Outcome> DecodeOutcome(std::string_view payload) {
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc["id"].is_string() || !doc["receiver"].is_string() ||
      !doc["queued_seq"].is_number_integer()) {
    return Status::Corruption("notification outcome event does not decode");
  }
  Outcome o;
  o.id = doc["id"].get<std::string>();
  o.receiver = doc["receiver"].get<std::string>();
  o.queued_seq = doc["queued_seq"].get<int64_t>();
  o.status = doc.value("status", 0);
  o.attempts = doc.value("attempts", 0);
  o.reason = doc.value("reason", "");
  o.target = doc.value("target", "");
  return o;
}

}  // namespace offmon::notify
