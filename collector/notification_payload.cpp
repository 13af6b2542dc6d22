#include "offmon/collector/notification_payload.h"

#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace offmon::collector {

namespace {

std::string Dump(const nlohmann::json& doc) { return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Resolved(const analyzer::Notification& n) { return n.transition.state == analyzer::AlertState::kResolved; }

nlohmann::json LabelsObject(const Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const Label& l : labels) out[l.name] = l.value;
  return out;
}

std::string Truncate(std::string s, size_t max) {
  if (s.size() > max) s.resize(max);
  return s;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  const size_t scheme_end = url.find("://");
  const std::string scheme = Lower(url.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end));
  if (scheme == "https") {
    out.https = true;
    out.port = "443";
  } else if (scheme != "http") {
    return Status::InvalidArgument("the URL must start with http:// or https://");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.target = std::string(rest.substr(slash));
    if (out.target.front() == '?') out.target.insert(0, "/");
  }
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("the URL must not hold credentials before the host");
  }
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    out.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
    if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("the URL's port is not a number");
    }
  }
  if (authority.empty()) return Status::InvalidArgument("the URL has no host");
  out.host = std::string(authority);
  return out;
}

std::string RedactHttpUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "***";
  const size_t end = url.find_first_of("/?#", scheme + 3);
  std::string_view authority = url.substr(scheme + 3, end == std::string_view::npos ? url.npos : end - scheme - 3);
  if (authority.find('@') != std::string_view::npos) return std::string(url.substr(0, scheme + 3)) + "***";
  std::string out(url.substr(0, scheme + 3 + authority.size()));
  if (end != std::string_view::npos && url.size() > end + 1) out += "/***";
  return out;
}

std::string NotificationLine(const analyzer::Notification& n) {
  const analyzer::Transition& t = n.transition;
  const std::string level = Resolved(n) ? "RESOLVED" : std::string(analyzer::SeverityName(t.severity));
  std::string line = fmt::format("[{}] {} {}: {}", level, n.reason, analyzer::Fingerprint(t.alert, t.labels), t.summary);
  if (!t.inhibited_by.empty()) line += fmt::format(" (caused by {})", t.inhibited_by);
  return line;
}

HttpPost BuildPost(const ReceiverConfig& config, const HttpUrl& url, const analyzer::Notification& n, TimePoint now,
                   std::string_view routing_key, std::string_view host_name) {
  const analyzer::Transition& t = n.transition;
  HttpPost post{url.target, ""};
  if (config.type == "alertmanager") {
    constexpr std::string_view kPath = "/api/v2/alerts";
    std::string path = post.target;
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (path.size() < kPath.size() || path.compare(path.size() - kPath.size(), kPath.size(), kPath) != 0) {
      path += kPath;
    }
    post.target = path;
    nlohmann::json labels = LabelsObject(t.labels);
    labels["alertname"] = t.alert;
    labels["severity"] = Lower(analyzer::SeverityName(t.severity));
    nlohmann::json annotations{{"summary", t.summary}, {"reason", n.reason}};
    if (!t.series.empty()) annotations["series"] = t.series;
    if (!t.inhibited_by.empty()) annotations["inhibited_by"] = t.inhibited_by;
    if (n.acknowledged_until) {  // a keep-alive of an acknowledged alert
      annotations["acknowledged_by"] = n.acknowledged_by;
      annotations["acknowledged_until"] = FormatRfc3339(*n.acknowledged_until);
    }
    const Duration hold = config.repeat_interval > Duration(0) ? 4 * config.repeat_interval : std::chrono::hours(24);
    nlohmann::json alert{{"labels", labels},
                         {"annotations", annotations},
                         {"startsAt", FormatRfc3339(t.active_since)},
                         {"endsAt", FormatRfc3339(Resolved(n) ? t.at : now + hold)},
                         {"generatorURL", fmt::format("offmon://{}/alerts?alert={}", host_name, t.alert)}};
    post.body = Dump(nlohmann::json::array({alert}));
  } else if (config.type == "slack") {
    post.body = Dump({{"text", NotificationLine(n)}});
  } else if (config.type == "discord") {
    post.body = Dump({{"content", Truncate(NotificationLine(n), 2000)}});
  } else if (config.type == "pagerduty") {
    nlohmann::json doc{{"routing_key", routing_key},
                       {"event_action", Resolved(n) ? "resolve" : "trigger"},
                       {"dedup_key", n.key}};
    if (!Resolved(n)) {
      doc["payload"] = {{"summary", Truncate(NotificationLine(n), 1024)},
                        {"source", std::string(host_name)},
                        {"severity", Lower(analyzer::SeverityName(t.severity))},
                        {"custom_details", {{"labels", LabelsObject(t.labels)}, {"series", t.series}}}};
    }
    post.body = Dump(doc);
  } else {  // webhook
    nlohmann::json doc{{"version", "1"},
                       {"id", n.id},
                       {"key", n.key},
                       {"receiver", n.receiver},
                       {"reason", n.reason},
                       {"alert", t.alert},
                       {"severity", analyzer::SeverityName(t.severity)},
                       {"state", analyzer::AlertStateName(t.state)},
                       {"labels", LabelsObject(t.labels)},
                       {"summary", t.summary},
                       {"series", t.series},
                       {"at", FormatRfc3339(t.at)},
                       {"active_since", FormatRfc3339(t.active_since)}};
    if (!t.inhibited_by.empty()) doc["inhibited_by"] = t.inhibited_by;
    post.body = Dump(doc);
  }
  return post;
}

}  // namespace offmon::collector
