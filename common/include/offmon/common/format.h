// Numbers for people, as the guide's reports print them; shared by the rules' summaries,
// the report and the escalation message so that all say "3,150" the same way. Pure
// functions.
#pragma once

#include <string>

namespace offmon {

// The value rounded to a whole number, half away from zero (100.5 -> "101", as
// std::round), with a comma every three digits: 1234567 -> "1,234,567". Never "-0";
// "nan", "inf" and "-inf" for non-finite values. Locale-independent: fmt's "{:L}" would
// need a std::locale with a hand-made numpunct facet for the same output.
std::string GroupThousands(double value);

}  // namespace offmon
