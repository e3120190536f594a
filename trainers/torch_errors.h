#pragma once
// Private to trainers/: LibTorch's exceptions as the one-line messages rlforge gives.

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace rlforge {

// The first line of an exception's message (LibTorch's carry a backtrace after it).
inline std::string first_line(const std::exception& e) {
  const auto* error = dynamic_cast<const c10::Error*>(&e);
  const std::string what = error != nullptr ? error->what_without_backtrace() : e.what();
  return what.substr(0, what.find('\n'));
}

}  // namespace rlforge
