// Scores the shipped binary: writes a scenario's CSV, imports it into a fresh store with
// `offmon --store S import --csv FILE`, replays the judged range with
// `offmon --store S analyze --from --to --step --json`, and turns the printed
// transitions into episodes. Commands run from an argv vector (posix_spawn, no shell),
// without OFFMON_CONFIG / OFFMON_STORE from the environment, so the defaults apply.
#pragma once

#include <string>
#include <vector>

#include "episode.h"
#include "offmon/common/result.h"
#include "scenario.h"

namespace offmon::accuracy {

// `offmon`: path of the binary. `work_dir`: an existing directory for this scenario's
// CSV and store (the caller removes it). Returns offmon's WARNING/CRITICAL episodes of
// the scored kinds; IOError naming the command and its stderr when a command fails or
// its output is not the documented JSON.
Result<std::vector<Episode>> RunOffmon(const std::string& offmon, const Scenario& scenario,
                                       const std::string& work_dir);

// Parses `analyze --json` output (one object per line) into episodes: WARNING/CRITICAL
// firings of the scored kinds open one, `resolved` closes it, other alerts are skipped.
// InvalidArgument naming the line when a line is not such an object.
Result<std::vector<Episode>> ParseAnalyzeJson(const std::string& output);

}  // namespace offmon::accuracy
