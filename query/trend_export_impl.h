// Machine output of `offmon trend`: CSV (one row per bucket) and one JSON document with
// the buckets, statistics, alert episodes and baseline of every series. Raw values, full
// precision (shortest round-trip form), times in RFC 3339 UTC. Pure; thread-safe.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "series_trend_impl.h"

namespace offmon::query {

// Header `series,start,min,avg,max,count`; the series key quoted as CSV requires.
std::string TrendCsv(const TrendView& view);
nlohmann::json TrendJson(const TrendView& view);
// One alert episode as JSON (shared with `offmon alerts --json`); `until` dates the
// duration of an episode still firing.
nlohmann::json EpisodeJson(const AlertEpisode& episode, TimePoint until);
nlohmann::json LabelsJson(const Labels& labels);

}  // namespace offmon::query
