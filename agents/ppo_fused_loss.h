#pragma once
// PPO's loss on one minibatch and its gradient with respect to the network outputs, in one pass
// over the samples on the CPU (private to agents/). The tensor-op version of the same arithmetic
// launches some forty small ops per minibatch, which cost more than the arithmetic itself.

#include <cstdint>

namespace rlforge::detail {

struct FusedLossInput {
  int64_t batch = 0;
  const int64_t* rows = nullptr;  // which rows of the per-sample arrays below; nullptr: 0..batch-1
  // Network outputs for the minibatch (already gathered): [batch, width] and [batch].
  const float* head = nullptr;
  const float* value = nullptr;
  int64_t width = 0;  // number of actions (Categorical) or action dimensions (Gaussian)
  // Per-sample arrays of the whole rollout, read at `rows`.
  const int64_t* discrete_actions = nullptr;  // Categorical: [N]
  const float* continuous_actions = nullptr;  // Gaussian: [N, width]
  const float* log_std = nullptr;             // Gaussian: [width]
  const float* old_log_probs = nullptr;
  const float* advantages = nullptr;
  const float* old_values = nullptr;
  const float* returns = nullptr;
  bool normalize_advantage = true;
  double clip_range = 0.2, clip_range_vf = 0.0, ent_coef = 0.0, vf_coef = 0.5;
};

struct FusedLossOutput {
  float* head_grad = nullptr;     // [batch, width]
  float* value_grad = nullptr;    // [batch]
  float* log_std_grad = nullptr;  // [width], Gaussian only
  // policy_loss, value_loss, entropy, approx_kl, clip_fraction
  double stats[5] = {0, 0, 0, 0, 0};
};

void fused_ppo_loss(const FusedLossInput& in, FusedLossOutput& out);

}  // namespace rlforge::detail
