// The analyzer's rule set as configuration: every alert of docs/alert-rules.md with its
// thresholds, `for` and `keep_firing_for` durations and rule-specific parameters. The
// defaults are the guide's rules with the choices docs/alert-rules.md explains; a
// `[rules.NAME]` table in the config file overrides any of them.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/common/time.h"

namespace offmon {

// How a threshold or parameter is written in the config file and stored here.
enum class RuleUnit {
  kNumber,   // a plain number (counts, percentages, ratios)
  kBytes,    // a number of bytes or a size string "3GiB", "200MB" (binary, as PM2 prints)
  kSeconds,  // a duration string "2h", stored as seconds
};

struct RuleConfig {
  bool enabled = true;
  RuleUnit threshold_unit = RuleUnit::kNumber;
  // The levels at which the WARNING and CRITICAL conditions start; nullopt when the rule
  // has no such level. What "start" means (above, below) is the rule's own.
  std::optional<double> warning, critical;
  // The condition must hold this long before the alert fires (pending until then).
  Duration for_duration{0};
  // A firing alert resolves only once its condition has been absent this long.
  Duration keep_firing_for{0};
  // Rule-specific parameters (durations in seconds, sizes in bytes).
  std::map<std::string, double, std::less<>> params;
  std::map<std::string, RuleUnit, std::less<>> param_units;

  // A parameter the rule declares; the defaults declare every one a rule reads.
  double Param(std::string_view key) const;
  Duration ParamDuration(std::string_view key) const;
};

using RuleSet = std::map<std::string, RuleConfig, std::less<>>;

// The shipped rule set, one entry per alert name.
const RuleSet& DefaultRules();

// Parses "3GiB", "200MB", "512KiB", "1024" into bytes. K, M, G, T (with or without "i",
// with or without "B") are powers of 1024, as PM2 and Prometheus print sizes.
std::optional<double> ParseBytes(std::string_view text);

}  // namespace offmon
