#pragma once
// The two scores that normalise an env's returns for aggregates across envs (Agarwal et al.
// 2021): a uniform random policy's mean return maps to 0, the env's reference score to 1.
// docs/results/README.md lists them with their sources.

#include <optional>
#include <string>
#include <vector>

namespace rlforge::cli {

struct ReferenceScores {
  std::string env_id;
  double random = 0;     // rlforge eval ENV_ID --random --episodes 1000
  double reference = 0;  // Gymnasium's solved threshold; RL Zoo's best published score where it has none
  const char* source = "";
};

const std::vector<ReferenceScores>& reference_scores();
std::optional<ReferenceScores> reference_scores_of(const std::string& env_id);

}  // namespace rlforge::cli
