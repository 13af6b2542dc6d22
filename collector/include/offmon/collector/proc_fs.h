// ProcFs: reads files under a /proc root that tests point at fixture directories.
// Thread safety: stateless apart from the root; safe to share.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "offmon/common/result.h"

namespace offmon::collector {

class ProcFs {
 public:
  explicit ProcFs(std::filesystem::path root) : root_(std::move(root)) {}
  // Whole file under the root ("meminfo", "self/status"). IOError naming the path.
  Result<std::string> Read(std::string_view relative) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

// Splits text into lines, and a line into whitespace-separated words, without copies.
// Used for every /proc file: one tokenizer instead of ad-hoc scanning per collector.
class ProcLines {
 public:
  explicit ProcLines(std::string_view text) : rest_(text) {}
  bool Next(std::string_view* line);

 private:
  std::string_view rest_;
};
bool NextWord(std::string_view* line, std::string_view* word);

}  // namespace offmon::collector
