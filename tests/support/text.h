// Small text checks shared by the tests that read a command's output.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace offmon::testing {

// Whether `part` occurs in `text`.
inline bool Has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// How many lines `text` holds: its newline characters.
inline size_t Lines(std::string_view text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace offmon::testing
