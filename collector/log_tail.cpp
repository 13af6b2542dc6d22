#include "offmon/collector/log_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace offmon::collector {

namespace {

constexpr size_t kBlockBytes = 64 * 1024;
// Bounds the work for a log made of one endless line (a dumped buffer, binary junk).
constexpr uint64_t kMaxScanBytes = uint64_t{8} << 20;

class File {
 public:
  explicit File(int fd) : fd_(fd) {}
  ~File() {
    if (fd_ >= 0) close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Cuts `line` to kMaxLogLineBytes without splitting a UTF-8 sequence.
std::string Truncate(std::string_view line) {
  if (line.size() <= kMaxLogLineBytes) return std::string(line);
  size_t cut = kMaxLogLineBytes;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  return std::string(line.substr(0, cut)) + "...";
}

std::string_view WithoutCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

Result<std::vector<std::string>> TailLines(const std::filesystem::path& path, size_t n) {
  // O_NONBLOCK: a FIFO in place of a log must not block the open.
  File file(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (file.get() < 0) {
    const int e = errno;
    std::string msg = fmt::format("tail {}: {}", path.string(), std::strerror(e));
    return e == ENOENT ? Status::NotFound(std::move(msg)) : Status::IOError(std::move(msg));
  }
  struct stat st {};
  if (fstat(file.get(), &st) != 0) {
    return Status::IOError(fmt::format("tail {}: {}", path.string(), std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(fmt::format("tail {}: not a regular file", path.string()));
  std::vector<std::string> lines;
  if (n == 0 || st.st_size <= 0) return lines;

  // Blocks are read from the end into the front of `tail` until it holds n line
  // breaks before the last line, or the start of the file, or the scan limit.
  const auto size = static_cast<uint64_t>(st.st_size);
  const uint64_t floor = size > kMaxScanBytes ? size - kMaxScanBytes : 0;
  std::vector<std::string> blocks;  // newest first
  uint64_t pos = size;
  size_t breaks = 0;
  // A newline ending the file closes the last line rather than starting another.
  const auto needed_breaks = [&] { return n + (blocks[0].empty() || blocks[0].back() != '\n' ? 0 : 1); };
  while (pos > floor && (blocks.empty() || breaks < needed_breaks())) {
    const uint64_t len = std::min<uint64_t>(kBlockBytes, pos - floor);
    pos -= len;
    std::string block(len, '\0');
    size_t got = 0;
    while (got < len) {
      ssize_t r = pread(file.get(), block.data() + got, len - got, static_cast<off_t>(pos + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Status::IOError(fmt::format("tail {}: {}", path.string(), std::strerror(errno)));
      if (r == 0) break;  // truncated meanwhile (log rotation): keep what was read
      got += static_cast<size_t>(r);
    }
    block.resize(got);
    breaks += static_cast<size_t>(std::count(block.begin(), block.end(), '\n'));
    blocks.push_back(std::move(block));
  }
  std::string tail;
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) tail += *it;

  std::string_view text = tail;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::vector<std::string_view> views;
  while (views.size() < n) {
    const size_t nl = text.rfind('\n');
    if (nl == std::string_view::npos) {
      // The first line read: complete when reading reached the file's start.
      if (pos == 0) {
        views.push_back(WithoutCr(text));
      } else if (!text.empty()) {
        lines.push_back("..." + Truncate(WithoutCr(text)));
      }
      break;
    }
    views.push_back(WithoutCr(text.substr(nl + 1)));
    text = text.substr(0, nl);
  }
  std::reverse(views.begin(), views.end());
  for (std::string_view v : views) lines.push_back(Truncate(v));
  return lines;
}

void CaptureLogTails(const ProcessLogs& logs, TimePoint now, SampleSink& sink, size_t n) {
  for (const auto& [stream, path] : {std::pair{"out", &logs.out_log}, std::pair{"err", &logs.err_log}}) {
    if (path->empty()) continue;
    try {
      nlohmann::json event = {{"process", logs.process},
                              {"stream", stream},
                              {"path", path->string()},
                              {"time_ms", ToMillis(now)}};
      auto lines = TailLines(*path, n);
      if (lines) {
        event["lines"] = std::move(*lines);
      } else {
        event["lines"] = nlohmann::json::array();
        event["error"] = lines.error().message();
      }
      sink.RecordEvent(EventKind::kLogTail, event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } catch (const std::exception& e) {
      // Allocation failure while building the event: report, never throw to the caller.
      sink.CollectorFailed("pm2", fmt::format("log tail {} {}: {}", logs.process, stream, e.what()));
    }
  }
}

}  // namespace offmon::collector
