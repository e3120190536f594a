#pragma once
// Evaluation of a policy on envs of its own, separate from the training envs.

#include <torch/torch.h>

#include <cstdint>

#include "rlforge/agents/actor_critic.h"
#include "rlforge/envs/episode_player.h"
#include "rlforge/envs/vector_env.h"

namespace rlforge {

struct EvaluationResult {
  double mean_return = 0;
  double std_return = 0;
  double mean_length = 0;
  int64_t episodes = 0;
};

// Runs exactly `episodes` episodes (the first `episodes` to start, so the result does not
// favour short ones) on a vector env built from `config`, seeded `seed`.
EvaluationResult evaluate_policy(ActorCritic& policy, const VectorEnvConfig& config,
                                 int64_t episodes, uint64_t seed, bool deterministic,
                                 torch::Generator& generator);

// The policy as an action chooser for one env of `spec` (watching, recording): Box actions
// clipped to the action space, as the vector env's steps get them. `policy` and `generator` must
// outlive the chooser.
ActionChooser policy_actions(ActorCritic& policy, const EnvSpec& spec, bool deterministic,
                             torch::Generator& generator);

}  // namespace rlforge
