#pragma once
// The actor-critic policy PPO trains: separate actor and critic MLPs over the flattened
// observation; a Categorical head for Discrete actions, a diagonal Gaussian with a
// state-independent log-std for Box actions.

#include <torch/torch.h>

#include "rlforge/agents/networks.h"
#include "rlforge/envs/space.h"

namespace rlforge {

struct ActorCriticConfig {
  MlpConfig actor;
  MlpConfig critic;
  double log_std_init = 0.0;  // Box actions only
};

class ActorCriticImpl : public torch::nn::Module {
 public:
  ActorCriticImpl(const Space& observation_space, const Space& action_space,
                  const ActorCriticConfig& config);

  struct Decision {
    torch::Tensor action;    // [B] int64 (Discrete) or [B, d] float32 (Box, unclipped)
    torch::Tensor log_prob;  // [B]
    torch::Tensor value;     // [B]
  };
  // Samples (or takes the mode when `deterministic`) for a batch of observations [B, ...].
  Decision act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator);

  struct Evaluation {
    torch::Tensor log_prob, entropy, value;  // [B] each
  };
  Evaluation evaluate(const torch::Tensor& observations, const torch::Tensor& actions);
  torch::Tensor value(const torch::Tensor& observations);

  bool discrete() const { return discrete_; }

 private:
  torch::Tensor features(const torch::Tensor& observations) const;

  bool discrete_;
  torch::nn::Sequential actor_{nullptr}, critic_{nullptr};
  torch::Tensor log_std_;
};
TORCH_MODULE(ActorCritic);

}  // namespace rlforge
