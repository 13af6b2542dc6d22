// What each receiver type gets: the HTTP request body (and path) of one notification.
// Pure functions, no I/O. docs/notifications.md shows each format.
//
// Thread safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include "offmon/notify/notification.h"
#include "offmon/common/config.h"
#include "offmon/common/result.h"
#include "offmon/common/time.h"

namespace offmon::notify {

// An http:// or https:// URL taken apart. The whole URL is a secret (webhook tokens live
// in paths): never log it.
struct HttpUrl {
  bool https = false;  // TLS to the receiver (https://)
  std::string host;    // a name, an IPv4 address, or an IPv6 address without its brackets
  bool ipv6_literal = false;  // host came in brackets: http://[::1]:8080/
  std::string port = "80";   // 443 for https:// without a port
  std::string target = "/";  // path and query
};
// InvalidArgument (naming no part of the URL) unless `url` is
// http[s]://host[:port][/path][?query][#fragment] (the scheme in any case), where host is
// a name, an IPv4 address or a bracketed IPv6 address ("[::1]", "[fe80::1%25eth0]") and
// port is 1-65535. The fragment is dropped.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// The Host header for `url`: "host", "host:port" when the port is not the scheme's
// default, IPv6 addresses in brackets ("[::1]:8080").
std::string HttpHostHeader(const HttpUrl& url);

// For `offmon config check`: scheme, host and port only, anything after them (path,
// query, credentials) as "***": "http://127.0.0.1:9093/***". "***" when not a URL.
std::string RedactHttpUrl(std::string_view url);

struct HttpPost {
  std::string target;  // the request target (path and query)
  std::string body;    // JSON
};

// The request for `n` to a receiver of config.type at `url`, sent at `now`.
// `routing_key` is PagerDuty's integration key (a secret; other types ignore it).
//   alertmanager: POST {url path}/api/v2/alerts (unless the path already ends so), a
//     one-alert array: labels alertname + the alert's labels + severity ("warning",
//     "critical"); annotations summary, series, reason; startsAt = when the condition
//     started; endsAt = the resolve time, or for a firing alert now + 4 x repeat_interval
//     (24h when repeat_interval is 0) so Alertmanager keeps it until re-sent or resolved;
//     generatorURL offmon://HOST/alerts?alert=NAME.
//   webhook: the notification as JSON (id, key, receiver, reason, alert, severity, state,
//     labels, summary, series, at, active_since, inhibited_by).
//   slack: {"text": line}; discord: {"content": line} (at most 2000 characters).
//   pagerduty: Events API v2: routing_key, event_action trigger/resolve, dedup_key = key,
//     payload {summary, source, severity, custom_details} on trigger.
HttpPost BuildPost(const ReceiverConfig& config, const HttpUrl& url, const Notification& n, TimePoint now,
                   std::string_view routing_key, std::string_view host_name);

// One line for chat receivers: "[CRITICAL] escalated ProcessOffline{process="w1"}: summary".
std::string NotificationLine(const Notification& n);

}  // namespace offmon::notify
