#pragma once
// Numbers written for people to read back: configs, option distributions, resume checks.

#include <charconv>
#include <string>
#include <type_traits>

namespace rlforge {

// The shortest text that reads back as the same value of v's type ("0.98", not the
// "0.97999999999999998" of 17 digits; a float's 3e-4 as "0.0003", not its double's digits),
// without an exponent unless that is more than two characters shorter ("0.0003", "1e-08",
// "1000000"). Integers are written in full.
template <class T>
std::string shortest_number_text(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char fixed[400], scientific[32];
    char* fixed_end = std::to_chars(fixed, fixed + sizeof fixed, v, std::chars_format::fixed).ptr;
    char* scientific_end =
        std::to_chars(scientific, scientific + sizeof scientific, v, std::chars_format::scientific).ptr;
    if (fixed_end - fixed <= scientific_end - scientific + 2) return std::string(fixed, fixed_end);
    return std::string(scientific, scientific_end);
  } else {
    return std::to_string(v);
  }
}

}  // namespace rlforge
