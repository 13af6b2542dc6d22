// Payloads carry alert summaries and labels that may hold invalid UTF-8 (process names,
// log lines): dumped with replacement characters rather than throwing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace offmon::notify {

inline std::string DumpJson(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace offmon::notify
