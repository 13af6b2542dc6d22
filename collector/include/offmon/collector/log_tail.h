// Log tails for escalation messages: when an alert fires on a PM2 process, the last
// lines of its output and error logs are captured into the store (EventKind::kLogTail),
// so the message can quote them even after the logs rotate.
// Thread safety: free functions without state; safe from any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "offmon/common/result.h"
#include "offmon/common/sample_sink.h"
#include "offmon/common/time.h"

namespace offmon::collector {

// How many lines an escalation quotes (the guide asks for 10-20).
inline constexpr size_t kLogTailLines = 20;
// Longer lines are cut to this many bytes (at a UTF-8 boundary) and end in "...".
inline constexpr size_t kMaxLogLineBytes = 2048;

// The last `n` lines of a file, oldest first, without their line ends ("\n" or "\r\n");
// a final line without a newline counts. Reads backwards from the end in blocks, so the
// cost depends on the lines returned, not on the file size; at most a few MiB are read,
// and a line whose start lies beyond that begins with "...". Empty for an empty file.
// NotFound when the file does not exist, InvalidArgument when it is not a regular file,
// IOError when it cannot be read; messages name the path.
Result<std::vector<std::string>> TailLines(const std::filesystem::path& path, size_t n);

// The logs of one PM2 process, as pm2 jlist reports them (pm_out_log_path,
// pm_err_log_path); an empty path is skipped.
struct ProcessLogs {
  std::string process;
  std::filesystem::path out_log;
  std::filesystem::path err_log;
};

// Records one kLogTail event per log: {"process", "stream": "out"|"err", "path",
// "time_ms", "lines": [...]}, with "error" (and no lines) when the log could not be read.
// Bytes that are not UTF-8 are replaced (U+FFFD), so the payload is always valid JSON.
void CaptureLogTails(const ProcessLogs& logs, TimePoint now, SampleSink& sink, size_t n = kLogTailLines);

}  // namespace offmon::collector
