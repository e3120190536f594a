#pragma once
// The actor-critic policy PPO trains: separate actor and critic MLPs over the flattened
// observation, or one shared trunk with a policy head and a value head; a Categorical head for
// Discrete actions, a diagonal Gaussian with a state-independent log-std for Box actions.
// Image observations (uint8, see ImageLayout) first go through one Nature CNN that actor and
// critic share (SB3's CnnPolicy); the MLPs then read its features.
//
// Raw observations go through prepare() (flatten, float, optional running normalisation); act,
// evaluate and value take what prepare() returned, which is also what a rollout stores. The
// normalisation statistics, and those of the return used to scale rewards, are buffers of this
// module, so they are saved and loaded with the weights.

#include <torch/torch.h>

#include "rlforge/agents/dp_sgd.h"
#include "rlforge/agents/inference_graph.h"
#include "rlforge/agents/networks.h"
#include "rlforge/agents/running_norm.h"
#include "rlforge/envs/space.h"

namespace rlforge {

struct ActorCriticConfig {
  MlpConfig actor;   // with `shared`, the trunk both heads read
  MlpConfig critic;  // ignored with `shared`
  bool shared = false;
  double log_std_init = 0.0;  // Box actions only
  // Generalised state-dependent exploration (gSDE, Raffin et al. 2022; Box actions): the
  // exploration noise is a linear map of the actor's last hidden features, its weights drawn
  // from N(0, exp(log_std)^2) with log_std [features, actions] learnt, and redrawn every
  // sde_sample_freq steps (-1: once per rollout). Noise that follows the state explores
  // smoothly where independent noise per step averages out (MountainCarContinuous).
  bool use_sde = false;
  int64_t sde_sample_freq = -1;
  bool normalize_observation = false;
  bool normalize_reward = false;
  double norm_clip = 10.0;  // normalised observations and scaled rewards are clipped to +-this
  int64_t cnn_features = 512;  // images: width of the CNN's output
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
  Decision act(const torch::Tensor& features, bool deterministic, torch::Generator& generator);

  struct Evaluation {
    torch::Tensor log_prob, entropy, value;  // [B] each
  };
  Evaluation evaluate(const torch::Tensor& features, const torch::Tensor& actions);
  torch::Tensor value(const torch::Tensor& features);

  // Raw observations [B, ...] -> the features the networks take; with `update_statistics`
  // (training rollouts only) the observation statistics first take in this batch. Images stay
  // uint8, as [B, C, H, W], so that rollouts store them compactly; the networks scale them.
  torch::Tensor prepare(const torch::Tensor& observations, bool update_statistics);
  // What prepare() returns for one observation: its shape and dtype.
  std::vector<int64_t> feature_shape() const;
  torch::Dtype feature_dtype() const { return image_ ? torch::kUInt8 : torch::kFloat32; }
  bool image() const { return image_.has_value(); }
  // Rewards as the learner sees them: divided by the running std of the discounted return
  // (`returns`, per env, kept by the caller) when normalize_reward is on; unchanged otherwise.
  torch::Tensor scale_rewards(const torch::Tensor& rewards, const torch::Tensor& returns, bool update_statistics);

  bool discrete() const { return discrete_; }
  const ActorCriticConfig& config() const { return config_; }
  // Draws the gSDE noise weights for a batch of `batch` envs (use_sde only).
  void reset_noise(int64_t batch, torch::Generator& generator);
  // A copy of the noise weights, and putting such a copy back (use_sde only).
  torch::Tensor noise() const;
  void set_noise(const torch::Tensor& noise);

  // DP-SGD on the policy alone (behaviour cloning): the logits (Discrete) or the Gaussian's mean
  // (Box) for prepared vector features, every linear layer on the way recorded on `tape`; and
  // the parameters of those layers. Vector observations without gSDE only (std::invalid_argument).
  torch::Tensor policy_output_recorded(const torch::Tensor& features, LinearTape& tape);
  std::vector<torch::Tensor> policy_parameters() const;


  // The deterministic policy from raw observations (the mode; Box actions clipped to the action
  // space's bounds), for export. `algorithm` names the learner in the export's metadata.
  InferenceGraph inference_graph(const InferenceOptions& options, const std::string& algorithm) const;

  // The Gaussian's log standard deviation: [d], or [features, d] with gSDE (undefined for
  // Discrete actions).
  const torch::Tensor& log_std() const { return log_std_; }

  // The networks run without autograd (MlpPass), for PPO's hand-derived update. Supported for
  // MLPs with tanh or relu; without autograd, act, evaluate and value use this path too.
  bool manual_gradient_supported() const { return manual_; }
  struct Heads {
    torch::Tensor head;   // logits or Gaussian mean [B, out]
    torch::Tensor value;  // [B]
  };
  Heads forward_manual(const torch::Tensor& features);
  // The policy head (logits, or the Gaussian's mean) and the value for raw observations, with
  // autograd on whatever the caller's mode (Agent::differentiable_outputs).
  Heads raw_outputs(const torch::Tensor& observations);
  // The policy head alone for prepared features, with autograd (SA-PPO's regulariser).
  torch::Tensor policy_head(const torch::Tensor& features);
  // A certified bound for Discrete actions on vector features: for every feature vector within
  // `radius` (elementwise, [B, F] or [F]) of `features` [B, F], no action's logit stands more than
  // the result [B, A] above the logit of `greedy` [B] (int64); 0 in the greedy column. Interval
  // bound propagation through the policy MLP, the last layer taken as differences of its rows
  // (a tighter bound than subtracting two logits' intervals). Differentiable in the parameters.
  torch::Tensor logit_gap_bound(const torch::Tensor& features, const torch::Tensor& radius, const torch::Tensor& greedy);
  // Whether certify_greedy can bound this policy: Discrete actions, vector observations, an MLP
  // of Linear layers and tanh, relu or elu.
  bool bounds_supported() const;
  // [B] bool for raw observations [B, ...]: true where the greedy action is the same for every
  // observation within `radius` (per element, in the observation's units) of the row.
  torch::Tensor certify_greedy(const torch::Tensor& observations, const torch::Tensor& radius);
  // Given dLoss/dHead and dLoss/dValue at the last forward_manual(), overwrites the gradient of
  // every network parameter (log_std's is the caller's: the networks do not produce it).
  void backward_manual(const torch::Tensor& head_grad, const torch::Tensor& value_grad);

 private:
  ActorCriticConfig config_;
  Space observation_space_, action_space_;
  bool discrete_;
  RunningNorm observation_norm_{nullptr}, return_norm_{nullptr};
  // Heads on features: both networks whole, or trunk + linear heads when shared.
  std::pair<torch::Tensor, torch::Tensor> heads(const torch::Tensor& x);
  // The layers from features to logits, in order (the trunk and the policy head when shared).
  std::vector<std::shared_ptr<torch::nn::Module>> policy_modules() const;
  // Prepared features -> what the MLPs read: the CNN's output for images, else unchanged.
  torch::Tensor encode(const torch::Tensor& x);
  std::optional<ImageLayout> image_;
  int64_t input_size_ = 0;  // vectors: the flattened observation
  // The Gaussian of a batch; with gSDE also the (detached) features the noise is a map of.
  struct Policy {
    torch::Tensor mean, log_std, value, sde_features;
  };
  Policy gaussian(const torch::Tensor& x);
  torch::nn::Sequential cnn_{nullptr}, actor_{nullptr}, critic_{nullptr}, trunk_{nullptr};
  torch::nn::Linear policy_head_{nullptr}, value_head_{nullptr};
  torch::Tensor log_std_;
  torch::Tensor sde_noise_;  // gSDE weights [batch, features, d], a buffer (saved with the model)
  bool manual_ = false;
  MlpPass actor_pass_, critic_pass_, trunk_pass_, policy_head_pass_, value_head_pass_;
};
TORCH_MODULE(ActorCritic);

}  // namespace rlforge
