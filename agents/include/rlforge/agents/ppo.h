#pragma once
// Proximal Policy Optimization (Schulman et al. 2017) with the implementation details that
// published implementations rely on, named as Stable-Baselines3 names them.

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <string>

#include <cstdint>
#include <functional>

#include "rlforge/agents/actor_critic.h"
#include "rlforge/agents/agent.h"
#include "rlforge/agents/flat_parameters.h"
#include "rlforge/envs/env.h"

namespace rlforge {

// Adversarial training for PPO, two ways that share epsilon, the PGD settings and the warm-up:
// - SA-PPO's state-adversarial smoothness regulariser (Zhang et al., NeurIPS 2020): for each
//   minibatch, PGD finds features within an L-infinity ball of radius epsilon (in units of each
//   feature's spread in the minibatch, or of the running std when observations are normalised)
//   that most change the policy, and coef x KL(pi(s) || pi(s_adv)) joins the loss. On when both
//   epsilon and coef are > 0; the update then runs on autograd (the hand-derived path has no
//   second forward pass).
// - Training on attacked observations (Pattanaik et al., AAMAS 2018; the "adversarial training"
//   baseline of Zhang et al.): while collecting, train_fraction of the envs act on, and store,
//   observations that PGD has pushed (within epsilon times the spread of the last rollout's
//   features, or the running std) to most change the policy's action distribution, so the
//   update learns from the states an attacker would show. On when epsilon and train_fraction
//   are > 0; the update keeps its own path.
struct AdversarialConfig {
  double epsilon = 0.0;
  double coef = 0.0;
  double train_fraction = 0.0;  // share of the envs whose observations are attacked while collecting
  int steps = 5;           // PGD steps that look for s_adv
  double step_size = 0.0;  // as a fraction of epsilon; 0: 2.5 / steps
  // SA-PPO's epsilon schedule: the radius grows linearly from 0 to epsilon over this fraction of
  // training (0: the full radius from the start).
  double warmup = 0.0;
  // What PGD maximises and the regulariser penalises. "kl": SA-PPO's KL(pi(s) || pi(s_adv)).
  // "margin" (Discrete actions): SA-DQN's hinge on the logits, max(0, max_{a != a*} z_a(s_adv) -
  // z_a*(s_adv) + margin) with a* the clean argmax, which protects the greedy action itself; it
  // counts on the states where a* already leads by `margin` at s, and is 0 elsewhere.
  std::string objective = "kl";
  double margin = 1.0;  // the hinge's logit margin for objective "margin"
  bool margin_objective() const { return objective == "margin"; }
  // How the regulariser finds the worst point of the ball. "pgd": PGD's point (a lower bound on
  // the worst case). "ibp" (objective "margin"): no search; the hinge takes interval bound
  // propagation's certified upper bound on the best other logit's lead over a*'s anywhere in the
  // ball, as SA-DQN's convex-relaxation variant takes a bound. Attacked observations (collection)
  // are found by PGD either way.
  std::string solver = "pgd";
  bool certified() const { return solver == "ibp"; }
  bool enabled() const { return epsilon > 0 && coef > 0; }  // the regulariser
  bool attacks_observations() const { return epsilon > 0 && train_fraction > 0; }
  bool active() const { return enabled() || attacks_observations(); }  // either kind
  // The envs (the first ones of the vector env) whose observations are attacked: round(train_fraction
  // x num_envs), at least one when training on attacked observations.
  int64_t attacked_envs(int64_t num_envs) const;
  // The radius at `progress` (the fraction of training done).
  double epsilon_at(double progress) const {
    return warmup > 0 ? epsilon * std::min(1.0, std::max(0.0, progress) / warmup) : epsilon;
  }
};

struct PpoConfig {
  int64_t n_steps = 2048;     // steps per env per rollout
  int64_t batch_size = 64;    // minibatch size
  int64_t n_epochs = 10;      // passes over the rollout per update
  double gamma = 0.99;
  double gae_lambda = 0.95;
  double clip_range = 0.2;
  bool clip_range_linear = false;  // anneal clip_range linearly to 0 over training
  double clip_range_vf = 0.0;      // > 0: clip value predictions around the old ones
  double ent_coef = 0.0;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;
  double learning_rate = 3e-4;
  bool learning_rate_linear = false;  // anneal learning_rate linearly to 0 over training
  double target_kl = 0.0;             // > 0: stop an update's epochs once KL exceeds 1.5x this
  double adam_eps = 1e-5;
  bool normalize_advantage = true;    // per minibatch
  // Hand-derived backward pass for tanh/relu MLP policies (the same gradients as autograd, in
  // a fraction of the time); false, or another activation, uses autograd.
  bool manual_gradient = true;
  AdversarialConfig adversarial;
  ActorCriticConfig policy;

  // Throws std::invalid_argument naming the first bad value.
  void validate() const;
};

// What one update sees of a rollout, flattened to [n_steps * num_envs, ...].
struct RolloutBatch {
  torch::Tensor observations, actions, log_probs, values, advantages, returns;
};

// The PPO objective on one minibatch, term by term.
struct PpoLoss {
  torch::Tensor policy_loss;  // clipped surrogate, to minimise
  torch::Tensor value_loss;   // mean squared error, value optionally clipped around old_values
  torch::Tensor entropy;      // mean entropy
  torch::Tensor total;        // policy_loss - ent_coef * entropy + vf_coef * value_loss
  torch::Tensor log_ratio;    // log(pi_new / pi_old) per sample
  torch::Tensor ratio;        // pi_new / pi_old per sample
};

// `advantages` are used as given (normalise them before, if wanted).
PpoLoss ppo_loss(const torch::Tensor& log_probs, const torch::Tensor& old_log_probs,
                 const torch::Tensor& advantages, const torch::Tensor& values,
                 const torch::Tensor& old_values, const torch::Tensor& returns,
                 const torch::Tensor& entropy, double clip_range, double clip_range_vf,
                 double ent_coef, double vf_coef);

struct PpoMetrics {
  double policy_loss = 0, value_loss = 0, entropy = 0, approx_kl = 0, clip_fraction = 0;
  double explained_variance = 0, learning_rate = 0, clip_range = 0;
  double adversarial_epsilon = 0;  // SA-PPO's radius this update used
  int64_t minibatches = 0;
  bool stopped_early = false;
};

class Ppo : public Agent {
 public:
  Ppo(const EnvSpec& spec, PpoConfig config, uint64_t seed, torch::Device device = torch::kCPU);

  const PpoConfig& config() const { return config_; }
  ActorCritic& policy() { return policy_; }
  torch::optim::Adam& optimizer() { return optimizer_; }
  torch::Generator& generator() override { return generator_; }
  torch::Device device() const override { return device_; }

  // The policy's action (its mode when `deterministic`) for raw observations.
  torch::Tensor act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) override;
  Outputs differentiable_outputs(const torch::Tensor& observations) override;
  torch::Tensor certify_actions(const torch::Tensor& observations, const torch::Tensor& radius) override;
  InferenceGraph inference_graph(const InferenceOptions& options) override;

  // One PPO update: n_epochs over shuffled minibatches of `batch`. `progress_remaining` goes
  // from 1 at the start of training to 0 at the end, for the linear schedules.
  PpoMetrics update(const RolloutBatch& batch, double progress_remaining);

  // The gradient of ppo_loss on one minibatch, written into the parameters' .grad(); the
  // advantages are normalised over the minibatch first when the config says so. Returns the
  // minibatch's [policy_loss, value_loss, entropy, approx_kl, clip_fraction]; with `kl_limit`
  // > 0 the gradient is skipped (and .grad() left as it was) when approx_kl exceeds it.
  struct Minibatch {
    torch::Tensor features, actions, old_log_probs, advantages, old_values, returns;
    torch::Tensor rows;  // int64: the rows of the tensors above that form the minibatch; undefined: all
  };
  torch::Tensor compute_gradient(const Minibatch& mb, double clip_range, double kl_limit, bool& over_kl_limit);
  // Whether compute_gradient() takes the hand-derived path (tanh/relu MLPs on the CPU) rather
  // than autograd.
  bool uses_manual_gradient() const;

  // Data-parallel training: when set, called once per minibatch with the flat gradient and the
  // minibatch's [policy_loss, value_loss, entropy, approx_kl, clip_fraction] (float64); it must
  // replace both, in place, by their means over all processes. Every process then clips and steps
  // the same gradient and takes the same target-KL decision (on the mean KL).
  using GradientAverager = std::function<void(torch::Tensor& gradient, torch::Tensor& stats)>;
  void set_gradient_averager(GradientAverager averager) { averager_ = std::move(averager); }
  // Transfer: a learning-rate factor per named parameter of the policy (0 freezes it: its
  // gradient is zeroed before the norm clip and it is never stepped). Unnamed ones keep 1.
  void set_learning_rate_scales(const std::map<std::string, double>& scales);

  // Training on attacked observations: PGD-perturbed copies of prepared features [B, F] (see
  // AdversarialConfig) at this update's radius, drawn with generator(); the features unchanged
  // before the first update has measured their spread, or at radius 0.
  torch::Tensor attack_features(const torch::Tensor& features);

  // All weights in one tensor (broadcast from one process to the others).
  const FlatParameters& flat_parameters() const { return parameters_; }

  // gSDE's noise weights (undefined without gSDE).
  torch::Tensor exploration_state() const override;
  void restore_exploration_state(const torch::Tensor& state) override;
  void reset_exploration(int64_t batch, torch::Generator& generator) override;

  // Weights (with normalisation statistics) and optimiser state.
  void save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) override;
  void load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) override;

 private:
  torch::Tensor manual_gradient(const Minibatch& mb, double clip_range, double kl_limit, bool& over_kl_limit);
  torch::Tensor autograd_gradient(const Minibatch& mb, double clip_range, double kl_limit, bool& over_kl_limit);
  // The adversarial regulariser on prepared features [B, F], s_adv within adversarial_epsilon_:
  // the mean KL(pi(s) || pi(s_adv)) (SA-PPO), or the mean hinge on the greedy action's logit
  // margin at s_adv over the rows where that margin is at least `margin` at s (objective "margin").
  torch::Tensor adversarial_penalty(const torch::Tensor& features);
  // PGD from a uniform start in the ball of `radius` [F] around features `x` [B, F]: the point
  // that most raises adversarial_objective, the policy held fixed (detached).
  torch::Tensor pgd_features(const torch::Tensor& x, const torch::Tensor& radius);
  // Per row, from the policy heads at s (`reference`) and s' (`perturbed`): KL(pi(s) || pi(s'))
  // (categorical over logits, or Gaussians sharing their log-std), or for "margin" how far the
  // best other logit at s' stands above that of s's greedy action.
  torch::Tensor adversarial_objective(const torch::Tensor& reference, const torch::Tensor& perturbed) const;
  torch::Tensor head_divergence(const torch::Tensor& reference, const torch::Tensor& perturbed) const;
  // The attacks' unit per feature of `x` [B, F]: 1 when observations are normalised (the
  // features are in running-std units already), else each feature's spread over `x`.
  torch::Tensor feature_unit(const torch::Tensor& x) const;

  PpoConfig config_;
  torch::Device device_;
  torch::Generator generator_;
  ActorCritic policy_;
  FlatParameters parameters_;  // what the optimiser steps and the gradient clip sees
  torch::optim::Adam optimizer_;
  // This update's radius: update() sets it from the warm-up's schedule (the first collection uses
  // its start).
  double adversarial_epsilon_ = 0;
  // Training on attacked observations: the spread of each feature over the last rollout (ones
  // when observations are normalised), the attack's unit; undefined before the first update.
  torch::Tensor observation_unit_;
  GradientAverager averager_;
  // Flat, like the parameters; undefined without transfer. step_start_ holds the weights before
  // each step, preallocated so that the minibatch loop allocates nothing for it.
  torch::Tensor lr_scale_, trainable_, step_start_;
};

}  // namespace rlforge
