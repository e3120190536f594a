#pragma once

#include <stdexcept>

namespace rlforge {

// Raised for every problem with data on disk or its use: a corrupt, truncated or wrong-version
// dataset file, a malformed CSV (with file, line and column), a bad split fraction, a step index
// out of range. Messages name the file and say what was expected.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rlforge
