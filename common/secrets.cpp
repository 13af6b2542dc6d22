#include "offmon/common/secrets.h"

#include <sys/stat.h>

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

}  // namespace offmon
