#include "reference_scores.h"

namespace rlforge::cli {

const std::vector<ReferenceScores>& reference_scores() {
  // Random: `rlforge eval ENV_ID --random --episodes 1000` (seeds 0-999; CarRacing 100 episodes),
  // measured again 2026-12-04 after the envs and Space::sample moved to NumPy's
  // generator (docs/results/README.md). Reference:
  // Gymnasium's reward_threshold ("solved"); Pendulum has none, so the RL Zoo's best published
  // Pendulum score (its benchmark table) stands in.
  static const std::vector<ReferenceScores> table{
      {"CartPole-v1", 22.197, 475.0, "Gymnasium reward_threshold"},
      {"Acrobot-v1", -499.093, -100.0, "Gymnasium reward_threshold"},
      {"MountainCar-v0", -200.0, -110.0, "Gymnasium reward_threshold"},
      {"MountainCarContinuous-v0", -33.3264, 90.0, "Gymnasium reward_threshold"},
      {"Pendulum-v1", -1230.65, -151.9, "RL Zoo TD3, its best published Pendulum-v1 score"},
      {"LunarLander-v3", -206.169, 200.0, "Gymnasium reward_threshold"},
      {"LunarLanderContinuous-v3", -224.901, 200.0, "Gymnasium reward_threshold"},
      {"BipedalWalker-v3", -100.555, 300.0, "Gymnasium reward_threshold"},
      {"CarRacing-v3", -32.6465, 900.0, "Gymnasium reward_threshold"},
  };
  return table;
}

std::optional<ReferenceScores> reference_scores_of(const std::string& env_id) {
  for (const ReferenceScores& r : reference_scores()) {
    if (r.env_id == env_id) return r;
  }
  return std::nullopt;
}

}  // namespace rlforge::cli
