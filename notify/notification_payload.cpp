#include "offmon/notify/notification_payload.h"

#include <cctype>
#include <charconv>

#include <boost/asio/ip/address_v6.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "json_dump_impl.h"

namespace offmon::notify {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Resolved(const Notification& n) { return n.transition.state == analyzer::AlertState::kResolved; }

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
  // A fragment (#...) is the client's own: never sent.
  rest = rest.substr(0, rest.find('#'));
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.target = std::string(rest.substr(slash));
    if (out.target.front() == '?') out.target.insert(0, "/");
  }
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("the URL must not hold credentials before the host");
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    // An IPv6 literal (RFC 3986 3.2.2): "[::1]" or "[::1]:8080"; a zone as "%25eth0" (RFC 6874).
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("the URL's IPv6 address has no closing ]");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::InvalidArgument("the URL has something other than :PORT after its ]");
      port = after.substr(1);
      if (port.empty()) return Status::InvalidArgument("the URL's port is not a number");
    }
    std::string literal(host);
    if (const size_t zone = literal.find("%25"); zone != std::string::npos) literal.erase(zone + 1, 2);
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address_v6(literal, ec);
    if (ec || literal.empty()) return Status::InvalidArgument("the URL's bracketed host is not an IPv6 address");
    out.host = address.to_string();  // canonical, no brackets: what the resolver and TLS take
    out.ipv6_literal = true;
  } else {
    if (authority.find_first_of("[]") != std::string_view::npos) {
      return Status::InvalidArgument("the URL's host has a [ or ] outside an IPv6 literal");
    }
    if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return Status::InvalidArgument("the URL's port is not a number");
      if (host.find(':') != std::string_view::npos) {
        return Status::InvalidArgument("the URL's host has a colon: an IPv6 address goes in brackets, http://[::1]:8080/");
      }
    }
    if (host.empty()) return Status::InvalidArgument("the URL has no host");
    out.host = std::string(host);
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Status::InvalidArgument("the URL's port is not a number from 1 to 65535");
    }
    out.port = std::string(port);
  }
  return out;
}

std::string HttpHostHeader(const HttpUrl& url) {
  const std::string host = url.ipv6_literal ? "[" + url.host + "]" : url.host;
  const std::string_view default_port = url.https ? "443" : "80";
  return url.port == default_port ? host : host + ":" + url.port;
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

std::string NotificationLine(const Notification& n) {
  const analyzer::Transition& t = n.transition;
  const std::string level = Resolved(n) ? "RESOLVED" : std::string(analyzer::SeverityName(t.severity));
  std::string line = fmt::format("[{}] {} {}: {}", level, n.reason, analyzer::Fingerprint(t.alert, t.labels), t.summary);
  if (!t.inhibited_by.empty()) line += fmt::format(" (caused by {})", t.inhibited_by);
  return line;
}

HttpPost BuildPost(const ReceiverConfig& config, const HttpUrl& url, const Notification& n, TimePoint now,
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
    post.body = DumpJson(nlohmann::json::array({alert}));
  } else if (config.type == "slack") {
    post.body = DumpJson({{"text", NotificationLine(n)}});
  } else if (config.type == "discord") {
    post.body = DumpJson({{"content", Truncate(NotificationLine(n), 2000)}});
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
    post.body = DumpJson(doc);
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
    post.body = DumpJson(doc);
  }
  return post;
}

}  // namespace offmon::notify
