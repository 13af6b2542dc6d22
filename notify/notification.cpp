#include "offmon/notify/notification.h"

#include <nlohmann/json.hpp>

namespace offmon::notify {

namespace {

std::string Dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string EncodeNotification(const Notification& n) {
  nlohmann::json transition = nlohmann::json::parse(analyzer::EncodeTransition(n.transition));
  transition["at_ms"] = ToMillis(n.transition.at);
  nlohmann::json doc{
      {"id", n.id}, {"receiver", n.receiver}, {"key", n.key}, {"reason", n.reason}, {"transition", transition}};
  if (n.acknowledged_until) {
    doc["acknowledged"] = {{"by", n.acknowledged_by}, {"until_ms", ToMillis(*n.acknowledged_until)}};
  }
  return Dump(doc);
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
  return n;
}

std::string EncodeDelivered(const Notification& n, int status, int attempts) {
  return Dump(
      {{"id", n.id}, {"receiver", n.receiver}, {"queued_seq", n.seq}, {"status", status}, {"attempts", attempts}});
}

std::string EncodeFailed(const Notification& n, int status, std::string_view reason, int attempts) {
  return Dump({{"id", n.id},
               {"receiver", n.receiver},
               {"queued_seq", n.seq},
               {"status", status},
               {"reason", reason},
               {"attempts", attempts}});
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
  return o;
}

}  // namespace offmon::notify
