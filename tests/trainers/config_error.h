#pragma once
// For tests of the config's rules: the one-line error parse_config gives, or "(no error)".

#include <string>
#include <vector>

#include "rlforge/trainers/config.h"

namespace rlforge::testing {

inline std::string config_error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(yaml, "bad.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace rlforge::testing
