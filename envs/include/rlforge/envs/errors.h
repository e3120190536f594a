#pragma once

#include <stdexcept>

namespace rlforge {

// Raised for every misuse of an environment: bad action, bad option, unknown id, wrong call order,
// an invalid space.
class EnvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rlforge
