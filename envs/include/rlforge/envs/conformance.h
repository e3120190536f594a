#pragma once
// The conformance suite every registered environment must pass (built-in or user-provided),
// as OpenSpiel runs one suite over all its games and Gymnasium's check_env inspects one env.

#include <cstdint>
#include <string>
#include <vector>

#include "rlforge/envs/options.h"
#include "rlforge/envs/registry.h"

namespace rlforge {

struct ConformanceCheck {
  std::string property;  // what was checked, in words
  bool passed = false;
  std::string detail;  // why it failed, or a short note of what was seen
};

struct ConformanceSettings {
  uint64_t seed = 0;
  int64_t random_steps = 2000;  // steps of the random rollout
};

// Runs every check on env `id` made with `options`; never throws for a failing property (the
// failure is reported in the result), only when the env cannot be made at all.
std::vector<ConformanceCheck> check_env_conformance(const std::string& id,
                                                    const Options& options = {},
                                                    const ConformanceSettings& settings = {});
// The same on an env of another registry (a plugin's, a test's).
std::vector<ConformanceCheck> check_env_conformance(const EnvRegistry& registry,
                                                    const std::string& id,
                                                    const Options& options = {},
                                                    const ConformanceSettings& settings = {});

}  // namespace rlforge
