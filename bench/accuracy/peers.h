// The methods offmon is compared with, computed in-process from the same series the
// CSV holds and evaluated at the same step as `offmon analyze`:
//
// - guide: the monitoring guide's rules as its script applies them, each on the latest
//   sample at or before the evaluation time: memory above 3 GiB (WARNING; 4 GiB
//   CRITICAL) as its leak alert, a single CPU sample above 90 %, an epoch with zero
//   participants, an epoch more than 50 % below the mean of the channel's previous 10
//   epochs, and the lifetime restart counter above 20.
// - predict_linear: Prometheus' `predict_linear(mem[6h], 24h) > 4GiB`, i.e.
//   offmon::analyzer::PredictLinearLeak (least squares over the last 6 h).
//
// Pure functions of the scenario; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "episode.h"
#include "scenario.h"

namespace offmon::accuracy {

enum class Method { kOffmon, kGuide, kPredictLinear };
inline constexpr Method kAllMethods[] = {Method::kOffmon, Method::kGuide, Method::kPredictLinear};

std::string_view MethodName(Method method);
// Whether `method` has a rule for `kind` (predict_linear only judges memory).
bool MethodCovers(Method method, Kind kind);

// The episodes of a peer (not kOffmon) over the scenario's judged range.
std::vector<Episode> RunPeer(Method method, const Scenario& scenario);

}  // namespace offmon::accuracy
