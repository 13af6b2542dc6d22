// Secrets in messages and on disk, for every module that holds one (the PostgreSQL URL in
// collector/database_url.h, receiver URLs and keys in notify/): scrubbing them from text
// and warning about files others can read.
//
// Thread safety: free functions without shared state.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/common/result.h"

namespace offmon {

// What a secret is replaced with in anything printed.
inline constexpr std::string_view kRedacted = "***";

// Replaces every occurrence of `secret` (when non-empty) in `text` with "***".
std::string ScrubSecret(std::string text, std::string_view secret);
// ScrubSecret for each of `secrets`, in order.
std::string ScrubSecrets(std::string text, const std::vector<std::string>& secrets);

// A warning when `path` can be read or written by group or others (mode & 077), naming
// `what` ("url_file /x") and the mode; empty otherwise or when stat fails.
// The whole content of a secret file (`what` says which key named it: "url_file"),
// trimmed of surrounding white space. NotFound or InvalidArgument (empty) naming `what`
// and the path, never the content.
Result<std::string> ReadSecretFile(const std::string& path, std::string_view what);

std::string SecretFileModeWarning(const std::filesystem::path& path, std::string_view what);

}  // namespace offmon
