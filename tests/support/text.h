// Small text checks shared by the tests that read a command's output.
#pragma once

#include <string_view>

namespace offmon::testing {

// Whether `part` occurs in `text`.
inline bool Has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

}  // namespace offmon::testing
