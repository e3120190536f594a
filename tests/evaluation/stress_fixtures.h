#pragma once
// Small stress suites for tests: one env-option grid, and settings on the stress seeds.

#include <string>
#include <vector>

#include "rlforge/evaluation/stress.h"

namespace rlforge::testing {

// A suite of one perturbation, `name`, sweeping env option `option` (e.g. "env.length") over `values`.
inline StressSuite one_option_suite(const std::string& name, const std::string& option, std::vector<std::string> values) {
  StressSuite suite;
  suite.source = "test";
  StressPerturbation shift;
  shift.name = name;
  shift.grid = {{option, std::move(values)}};
  suite.perturbations = {shift};
  return suite;
}

// `episodes` per cell on `num_envs` envs, from the first stress seed (rlforge/envs/seeds.h).
inline StressSettings stress_settings(int episodes, int num_envs) {
  StressSettings settings;
  settings.seed = 3000000;
  settings.episodes = episodes;
  settings.num_envs = num_envs;
  return settings;
}

}  // namespace rlforge::testing
