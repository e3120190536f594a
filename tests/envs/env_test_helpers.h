#pragma once
// Helpers shared by the envs tests.

#include <string>

#include "rlforge/envs/env.h"

namespace rlforge::testing {

// Runs `f` and returns the message of the EnvError it throws ("" when nothing was thrown).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const EnvError& e) {
    return e.what();
  }
  return "";
}

}  // namespace rlforge::testing
