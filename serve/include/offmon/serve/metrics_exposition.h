// MetricsExposition: the body of GET /metrics, produced one metric family at a time so a
// scrape never holds the whole text: the newest sample of every stored series (names and
// labels as stored, one # HELP / # TYPE per family), then the daemon's own families.
//
// Thread safety: a value type, used by one thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "offmon/serve/prometheus_text.h"
#include "offmon/store/store.h"

namespace offmon::serve {

// One family the daemon reports about itself (not from the store).
struct OwnFamily {
  std::string name;
  MetricType type = MetricType::kGauge;
  std::string help;
  std::vector<std::pair<Labels, double>> samples;
};

class MetricsExposition {
 public:
  // `latest` in any order; a stored family with the name of an own family is left out
  // (the live value wins).
  MetricsExposition(std::vector<store::LatestSample> latest, std::vector<OwnFamily> own, ExpositionFormat format);

  // The next piece of the body into `*piece` (replacing it); false when done.
  bool Next(std::string* piece);

 private:
  std::vector<store::LatestSample> latest_;  // by name, then labels
  std::vector<OwnFamily> own_;
  ExpositionFormat format_;
  size_t next_series_ = 0;
  size_t next_own_ = 0;
  bool ended_ = false;
};

// HELP text of a series offmon collects (docs/metrics.md), or a generic one for other
// names (imported history).
std::string MetricHelp(std::string_view metric_name);

}  // namespace offmon::serve
