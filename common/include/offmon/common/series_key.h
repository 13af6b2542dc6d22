// SeriesKey: a metric name plus labels sorted by name, written in Prometheus notation:
// process_memory_bytes{process="w1"}. The canonical text form is the series' identity in
// the store. Thread safety: a value type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "offmon/common/result.h"

namespace offmon {

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};
using Labels = std::vector<Label>;

struct SeriesKey {
  std::string name;
  Labels labels;  // sorted by name, names unique

  SeriesKey() = default;
  // Sorts `labels`; callers pass them in any order. Labels with an empty value are
  // dropped (Prometheus: empty means absent) and of repeated names the last one wins, so
  // every key has one canonical form. The name is copied (offmon::metric's constants
  // are views).
  SeriesKey(std::string_view metric_name, Labels labels);

  // Canonical Prometheus notation; label values escaped (\\, \", \n).
  std::string ToString() const;
  // Value of a label, or empty when absent (Prometheus semantics).
  std::string_view Label(std::string_view label_name) const;

  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
};

// Parses `name{a="x",b="y"}`, `name`, or `{__name__="name",...}`; blanks around tokens
// and a trailing comma are allowed, empty label values are dropped. InvalidArgument with
// the byte offset and reason on bad names, reserved `__` label names, bad escapes (only
// \\, \" and \n exist), values that are not UTF-8, duplicate labels or trailing text.
Result<SeriesKey> ParseSeriesKey(std::string_view text);

bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

}  // namespace offmon
