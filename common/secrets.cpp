#include "offmon/common/secrets.h"

#include <sys/stat.h>

#include <cstdio>

#include <fmt/format.h>

namespace offmon {

std::string ScrubSecret(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + kRedacted.size())) {
    text.replace(pos, secret.size(), kRedacted);
  }
  return text;
}

std::string ScrubSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) text = ScrubSecret(std::move(text), secret);
  return text;
}

std::string SecretFileModeWarning(const std::filesystem::path& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  const unsigned mode = static_cast<unsigned>(st.st_mode) & 0777U;
  if ((mode & 077U) == 0) return {};
  return fmt::format("{} {} is readable by group or others (mode {:04o}); chmod 600 it", what, path.string(), mode);
}

Result<std::string> ReadSecretFile(const std::string& path, std::string_view what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::NotFound(fmt::format("{} {}: cannot read", what, path));
  std::string text;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return Status::InvalidArgument(fmt::format("{} {} is empty", what, path));
  text = text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
  return text;
}

}  // namespace offmon
