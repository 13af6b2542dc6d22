// Fuzzes Selector::Parse and ParseSeriesKey. Input: `selector \0 series key`, or without
// a NUL byte the same text for both. Checks:
//  - a parsed key's ToString re-parses to the same key (and the same text);
//  - text that parses as a series key also parses as a selector that matches that key;
//  - the selector's matchers agree with Selector::Matches.
// Regex cost: the selector compiles with libstdc++'s polynomial (breadth-first) executor,
// so matching is linear in the subject (the default backtracking one timed out here on
// "(...*...)*ode"-style patterns, and overflows the stack on long subjects), and the
// parser refuses backreferences, repeat counts above 1000, huge expansions and deep
// nesting. What is left is cost proportional to pattern size x subject length, so inputs
// are capped at 256 bytes and regex matchers only run on subjects of at most 32 bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "offmon/common/series_key.h"
#include "offmon/store/selector.h"

namespace {

constexpr size_t kMaxInput = 256;
constexpr size_t kMaxRegexSubject = 32;

bool ShortSubjects(const offmon::SeriesKey& key) {
  if (key.name.size() > kMaxRegexSubject) return false;
  for (const auto& label : key.labels) {
    if (label.value.size() > kMaxRegexSubject) return false;
  }
  return true;
}

bool HasRegex(const offmon::store::Selector& selector) {
  for (const auto& m : selector.matchers()) {
    if (m.regex) return true;
  }
  return false;
}

void CheckMatch(const offmon::store::Selector& selector, const offmon::SeriesKey& key) {
  if (HasRegex(selector) && !ShortSubjects(key)) return;
  bool all = true;
  for (const auto& m : selector.matchers()) {
    const std::string_view actual = m.name == "__name__" ? std::string_view(key.name) : key.Label(m.name);
    all = all && m.Matches(actual);
  }
  if (all != selector.Matches(key)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view selector_text = nul == std::string_view::npos ? input : input.substr(0, nul);
  const std::string_view key_text = nul == std::string_view::npos ? input : input.substr(nul + 1);

  auto selector = offmon::store::Selector::Parse(selector_text);
  auto key = offmon::ParseSeriesKey(key_text);
  if (key) {
    const std::string canonical = key->ToString();
    auto again = offmon::ParseSeriesKey(canonical);
    if (!again || !(*again == *key) || again->ToString() != canonical) std::abort();
    // Series key notation is a subset of selector notation with the same meaning.
    auto as_selector = offmon::store::Selector::Parse(key_text);
    if (!as_selector || !as_selector->Matches(*key)) std::abort();
    auto canonical_selector = offmon::store::Selector::Parse(canonical);
    if (!canonical_selector || !canonical_selector->Matches(*key)) std::abort();
    if (selector) CheckMatch(*selector, *key);
  }
  if (selector) {
    if (selector->matchers().empty()) std::abort();
    if (!selector->metric_name().empty()) {
      const offmon::SeriesKey bare(selector->metric_name(), {});
      CheckMatch(*selector, bare);
    }
  }
  return 0;
}
