#pragma once
// Fills a RolloutBuffer from a VectorEnv with an actor-critic policy, keeping track of finished
// episodes. The vector env's observations are read in place (torch::from_blob); truncated
// episodes bootstrap from the value of their final observation.

#include <torch/torch.h>

#include <deque>
#include <functional>

#include "rlforge/agents/actor_critic.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/evaluation/env_tensors.h"
#include "rlforge/replay/rollout_buffer.h"

namespace rlforge {

struct EpisodeSummary {
  double episode_return;
  int64_t length;
};

// Observations an attacker changes before the policy sees them (training on attacked
// observations): `perturb` maps prepared features [k, F] to the ones the first `envs` envs act on;
// the buffer keeps what they acted on.
struct ObservationAttack {
  std::function<torch::Tensor(const torch::Tensor&)> perturb;
  int64_t envs = 0;
};

class RolloutCollector {
 public:
  // `venv` must have been reset.
  RolloutCollector(VectorEnv& venv, double gamma);

  // Clears `buffer`, fills it with n_steps vector steps, and computes advantages and returns.
  void collect(ActorCritic& policy, torch::Generator& generator, RolloutBuffer& buffer,
               double gae_lambda, const ObservationAttack& attack = {});

  // Episodes finished since the last call.
  std::vector<EpisodeSummary> take_finished_episodes();
  int64_t env_steps() const { return env_steps_; }
  // Wall seconds spent stepping the vector env, and in the rest of collection (the policy,
  // normalisation, storage), since construction.
  double env_seconds() const { return env_seconds_; }
  double policy_seconds() const { return policy_seconds_; }
  // For checkpoints: the per-env discounted returns that reward scaling tracks, and the count.
  const torch::Tensor& discounted_returns() const { return discounted_returns_; }
  void restore(const torch::Tensor& discounted_returns, int64_t env_steps) {
    discounted_returns_.copy_(discounted_returns);
    env_steps_ = env_steps;
  }

  static RolloutBufferConfig buffer_config(const VectorEnv& venv, int64_t n_steps, const ActorCriticImpl& policy);

 private:
  VectorEnv& venv_;
  EnvTensors env_;
  double gamma_;
  torch::Tensor discounted_returns_;  // per env, for reward normalisation
  torch::Tensor no_bootstrap_;       // zeros: the bootstrap of a step without truncations
  double env_seconds_ = 0, policy_seconds_ = 0;
  std::vector<EpisodeSummary> finished_;
  int64_t env_steps_ = 0;
};

}  // namespace rlforge
