#include "offmon/collector/proc_fs.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace offmon::collector {

Result<std::string> ProcFs::Read(std::string_view relative) const {
  std::filesystem::path path = root_ / relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(fmt::format("cannot read {}", path.string()));
  // /proc files report size 0: read until EOF rather than by size.
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool ProcLines::Next(std::string_view* line) {
  if (rest_.empty()) return false;
  size_t end = rest_.find('\n');
  *line = rest_.substr(0, end);
  rest_ = end == std::string_view::npos ? std::string_view() : rest_.substr(end + 1);
  return true;
}

bool NextWord(std::string_view* line, std::string_view* word) {
  size_t start = line->find_first_not_of(" \t");
  if (start == std::string_view::npos) return false;
  size_t end = line->find_first_of(" \t", start);
  *word = line->substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  *line = end == std::string_view::npos ? std::string_view() : line->substr(end);
  return true;
}

}  // namespace offmon::collector
