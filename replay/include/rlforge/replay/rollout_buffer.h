#pragma once
// On-policy rollout storage: [n_steps, num_envs] preallocated tensors on the CPU, filled one
// vector-env step at a time, then turned into advantages and returns with GAE.
//
// Episode ends follow the vector env's same-step autoreset. A step that ended its episode
// (terminated or truncated) does not bootstrap from the next stored step, which belongs to a
// new episode. A truncated step is not terminal for the task, so its reward is credited with
// gamma * V(final observation) at insertion (the caller passes that value); a terminated step
// gets nothing more.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace rlforge {

struct RolloutBufferConfig {
  int64_t n_steps = 0;
  int64_t num_envs = 0;
  std::vector<int64_t> observation_shape;       // one observation
  torch::Dtype observation_dtype = torch::kFloat32;
  std::vector<int64_t> action_shape;            // {} for a discrete action (int64)
  torch::Dtype action_dtype = torch::kInt64;
};

class RolloutBuffer {
 public:
  explicit RolloutBuffer(const RolloutBufferConfig& config);

  int64_t n_steps() const { return config_.n_steps; }
  int64_t num_envs() const { return config_.num_envs; }
  int64_t size() const { return n_steps() * num_envs(); }
  bool full() const { return position_ == n_steps(); }
  void clear() {
    position_ = 0;
    decision_pending_ = false;
  }

  // Stores one step for all envs, in two halves around the env step (whose output overwrites
  // the observations the policy saw). First what the policy saw and did...
  void add_decision(const torch::Tensor& observations, const torch::Tensor& actions,
                    const torch::Tensor& log_probs, const torch::Tensor& values);
  // ...then what the env returned: `ended` is terminated | truncated, and `bootstrap` (per env,
  // 0 where not truncated) is added to the reward: gamma * V(final observation) for truncated
  // envs. Completes the step.
  void add_outcome(const torch::Tensor& rewards, const torch::Tensor& ended,
                   const torch::Tensor& bootstrap);

  // GAE(lambda) over the stored steps; `last_values` is V of the observations after the last
  // step (per env).
  void compute_advantages(const torch::Tensor& last_values, double gamma, double gae_lambda);

  // Flattened [n_steps * num_envs, ...] views for minibatching.
  torch::Tensor observations() const { return flat(observations_); }
  torch::Tensor actions() const { return flat(actions_); }
  torch::Tensor log_probs() const { return flat(log_probs_); }
  torch::Tensor values() const { return flat(values_); }
  torch::Tensor advantages() const { return flat(advantages_); }
  torch::Tensor returns() const { return flat(returns_); }
  // Per-step views [n_steps, num_envs, ...].
  const torch::Tensor& advantages_by_step() const { return advantages_; }
  const torch::Tensor& returns_by_step() const { return returns_; }

 private:
  static torch::Tensor flat(const torch::Tensor& t) { return t.flatten(0, 1); }

  RolloutBufferConfig config_;
  int64_t position_ = 0;
  bool decision_pending_ = false;
  torch::Tensor observations_, actions_, log_probs_, values_, rewards_, ended_;
  torch::Tensor advantages_, returns_;
};

}  // namespace rlforge
