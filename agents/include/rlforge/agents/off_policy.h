#pragma once
// Off-policy actor-critic methods for continuous (Box) actions, learning from a replay buffer:
//   SAC (Haarnoja et al. 2018, with the automatic entropy temperature of Haarnoja et al. 2018b):
//     a tanh-squashed Gaussian actor, twin Q critics with Polyak-averaged targets;
//   TD3 (Fujimoto et al. 2018): a deterministic actor, twin critics, delayed actor and target
//     updates, target policy smoothing with clipped noise;
//   TQC (Kuznetsov et al. 2020): SAC with distributional critics (quantiles), the largest
//     quantiles of every critic dropped from the target.
// Hyperparameters carry Stable-Baselines3's names and defaults (SB3-Contrib's for TQC).
//
// Actions live in [-1, 1]^d inside the agent and the replay buffer (SB3 does the same) and are
// rescaled to the action space's bounds only for the env (to_env_actions). The agent owns the
// networks, their targets, the optimisers and a generator; the replay buffer and the loop that
// fills it belong to the trainer (trainers/off_policy_algorithm.cpp).

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/agents/flat_parameters.h"
#include "rlforge/agents/networks.h"
#include "rlforge/envs/env.h"

namespace rlforge {

class ReplayBuffer;
struct ReplaySample;
class WorkerPool;

struct OffPolicyConfig {
  std::string algo = "sac";  // sac | td3 | tqc (the config's agent.algo)
  double learning_rate = 3e-4;  // actor, critics and entropy temperature alike (TD3: 1e-3)
  bool learning_rate_linear = false;  // anneal linearly to 0 over training
  int64_t buffer_size = 1'000'000;
  int64_t learning_starts = 100;  // env steps of uniformly random actions before learning
  int64_t batch_size = 256;
  double tau = 0.005;  // Polyak factor of the target networks
  double gamma = 0.99;
  int64_t train_freq = 1;      // vector-env steps between training rounds
  int64_t gradient_steps = 1;  // per round; -1: as many as env steps collected
  double adam_eps = 1e-8;
  int64_t n_critics = 2;
  // SAC and TQC: the entropy coefficient, "auto" (learned, starting at 1), "auto_<x>" (learned,
  // starting at x) or a fixed number; the target entropy, "auto" (-dim(A)) or a number.
  std::string ent_coef = "auto";
  std::string target_entropy = "auto";
  int64_t target_update_interval = 1;  // gradient steps between target updates (SAC, TQC)
  // TD3
  int64_t policy_delay = 2;  // critic updates per actor and target update
  double target_policy_noise = 0.2;
  double target_noise_clip = 0.5;
  // Exploration noise added to the actor's action while collecting (SB3's action_noise): none,
  // normal (Gaussian) or ornstein_uhlenbeck (theta 0.15, dt 0.01), of standard deviation
  // action_noise_std in the [-1, 1] action scale.
  std::string action_noise = "none";
  double action_noise_std = 0.1;
  // SAC and TQC: generalised state-dependent exploration (gSDE, Raffin et al. 2022), as SB3's
  // use_sde: the pre-squash noise is a linear map of the actor's last hidden features (detached),
  // whose weights (exp(log_std) times standard normals) are drawn every sde_sample_freq env steps
  // while collecting (-1: at the start of every round of train_freq steps) and once per gradient
  // step in training; log_std is a [features, d] parameter starting at log_std_init, and the
  // mean is clipped to +-2 before the tanh (SB3's clip_mean).
  bool use_sde = false;
  int64_t sde_sample_freq = -1;
  double log_std_init = -3.0;
  // TQC
  int64_t n_quantiles = 25;
  int64_t top_quantiles_to_drop_per_net = 2;
  // Networks: hidden layers of the actor (pi) and of each critic (qf); LibTorch's (PyTorch's)
  // default initialisation, as SB3.
  std::vector<int64_t> pi{256, 256};
  std::vector<int64_t> qf{256, 256};
  std::string activation = "relu";  // relu | tanh | elu | gelu
  // Hand-derived forward and backward passes for relu/tanh networks on the CPU (the same
  // gradients as autograd, fewer ops); false, or another activation, uses autograd.
  bool manual_gradient = true;
  // Threads that run the critics side by side in the hand-derived passes (each critic's
  // arithmetic on one thread; at most n_critics are used). Every critic computes the same
  // numbers on any thread, so results do not depend on this.
  int64_t critic_threads = 1;

  // SB3's defaults for `algo`: the fields above, except TD3's learning rate 1e-3 and
  // [400, 300] networks.
  static OffPolicyConfig defaults(const std::string& algo);

  bool entropy_regularised() const { return algo != "td3"; }
  bool distributional() const { return algo == "tqc"; }
  // Throws std::invalid_argument naming the first bad value.
  void validate() const;
  // The entropy coefficient's start and whether it is learned, from ent_coef.
  double initial_ent_coef() const;
  bool learns_ent_coef() const;
};

// `count` independent MLP critics evaluated together, their parameters stacked per layer
// ([count, in, out], [count, 1, out]). Autograd's forward() is one batched matrix product per
// layer; the hand-derived passes run each critic as its own products, on the threads of a
// WorkerPool when one is set. Each critic is initialised as a stack of LibTorch Linear layers
// would be.
class CriticEnsembleImpl : public torch::nn::Module {
 public:
  CriticEnsembleImpl(int64_t count, int64_t in, const std::vector<int64_t>& hidden, int64_t out,
                     const std::string& activation);
  // Input [B, in] (the same for every critic) -> [count, B, out].
  torch::Tensor forward(const torch::Tensor& x);
  // Critic `k` alone: [B, in] -> [B, out].
  torch::Tensor forward_one(const torch::Tensor& x, int64_t k);
  int64_t count() const { return count_; }

  // The hand-derived pass (relu or tanh; call under torch::NoGradGuard). forward_manual keeps
  // each layer's input; backward_manual takes dLoss/dOutput [count, B, out] of the last
  // forward_manual, overwrites every parameter's gradient when `weight_grads`, and returns
  // dLoss/dInput [B, in] summed over the critics when `input_grad`. With `keep_inputs` false,
  // forward_manual keeps nothing (target critics, which are never differentiated). `critics`
  // runs the first few only ([critics, B, out]; -1: all): TD3's actor learns from the first
  // alone. Then backward_manual takes [critics, B, out] and gives the input's gradient only.
  bool manual_supported() const { return activation_ == "relu" || activation_ == "tanh"; }
  torch::Tensor forward_manual(const torch::Tensor& x, bool keep_inputs = true, int64_t critics = -1);
  torch::Tensor backward_manual(const torch::Tensor& output_grad, bool weight_grads, bool input_grad);
  // The hand-derived passes run the critics on `pool`'s threads (nullptr: one after another).
  // The pool is not owned and must outlive its use here.
  void set_workers(WorkerPool* pool) { pool_ = pool; }

 private:
  torch::Tensor activate(const torch::Tensor& x) const;
  int64_t count_;
  std::string activation_;
  WorkerPool* pool_ = nullptr;
  std::vector<torch::Tensor> weights_, biases_;  // [count, in, out], [count, 1, out]
  std::vector<torch::Tensor> inputs_;            // forward_manual: each layer's input
  int64_t kept_critics_ = 0;                     // how many critics that forward_manual ran
};
TORCH_MODULE(CriticEnsemble);

// The actor: an MLP whose last layer gives the mean of each action dimension and, when
// `stochastic`, its log standard deviation after it ([B, 2d]; one layer with both heads is
// initialised as SB3's two separate heads, their fan-in being the same). With gSDE (`sde`) the
// last layer gives the mean alone and the log-std is a [features, d] parameter.
class OffPolicyActorImpl : public torch::nn::Module {
 public:
  OffPolicyActorImpl(int64_t in, int64_t actions, const std::vector<int64_t>& hidden, const std::string& activation,
                     bool stochastic, bool sde = false, double log_std_init = -3.0);
  // The network's raw output [B, d] or [B, 2d].
  torch::Tensor forward(const torch::Tensor& x) { return net_->forward(x); }
  // gSDE: the last hidden layer's output [B, features] and the raw output computed from it.
  torch::Tensor features(const torch::Tensor& x);
  torch::Tensor head(const torch::Tensor& features);
  // Mean and log standard deviation (clamped to [-20, 2], as SB3) of the pre-squash Gaussian
  // from a raw output; the log-std is undefined for a deterministic actor and under gSDE, whose
  // mean is clipped to [-2, 2].
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& output) const;
  // tanh(mean): the deterministic action in [-1, 1].
  torch::Tensor deterministic(const torch::Tensor& x) { return torch::tanh(split(forward(x)).first); }
  const torch::nn::Sequential& net() const { return net_; }
  bool sde() const { return sde_; }
  const torch::Tensor& sde_log_std() const { return log_std_; }  // [features, d] (gSDE)
  static constexpr double kSdeClipMean = 2.0;

 private:
  int64_t actions_;
  bool stochastic_, sde_;
  torch::nn::Sequential net_{nullptr};
  torch::Tensor log_std_;
};
TORCH_MODULE(OffPolicyActor);

// A tanh-squashed Gaussian sample: u = mean + std * noise, action = tanh(u), and its
// log-probability sum_i [log N(u_i; mean_i, std_i) - log(1 - tanh(u_i)^2 + 1e-6)] (the change of
// variables, with SB3's epsilon). `noise` [B, d] standard normal.
struct SquashedSample {
  torch::Tensor action;    // [B, d]
  torch::Tensor log_prob;  // [B]
};
SquashedSample squashed_gaussian(const torch::Tensor& mean, const torch::Tensor& log_std, const torch::Tensor& noise);
// gSDE's tanh-squashed sample: u = mean + features @ weights, action = tanh(u), and its
// log-probability under N(mean, sigma^2) with sigma_j^2 = sum_k features_k^2 exp(2 log_std_kj)
// + 1e-6, less the same change-of-variables term (SB3's StateDependentNoiseDistribution with
// full_std and squashing). `features` [B, F] (detached), `log_std` [F, d]; `weights` the
// exploration matrix [F, d] shared by the batch or [B, F, d] one per row.
SquashedSample squashed_sde(const torch::Tensor& mean, const torch::Tensor& features, const torch::Tensor& log_std,
                            const torch::Tensor& weights);

// The quantile Huber loss of QR-DQN and TQC (Huber threshold 1): `quantiles` [B, N, Q] of N
// critics at fractions (j + 0.5) / Q, `targets` [B, K]; averaged over every pair (SB3-Contrib's
// quantile_huber_loss with sum_over_quantiles=False).
torch::Tensor quantile_huber_loss(const torch::Tensor& quantiles, const torch::Tensor& targets);
// The same loss and its gradient by hand, in one pass without temporaries: `quantiles` in the
// critics' layout [N, B, Q] (float, CPU), `targets` [B, K]; writes dLoss/dQuantiles [N, B, Q] to
// `grad` and returns the loss. With a `pool`, the critics' shares run on its threads (the loss
// is summed in the same order either way).
double quantile_huber_loss_backward(const torch::Tensor& quantiles, const torch::Tensor& targets, torch::Tensor& grad,
                                    WorkerPool* pool = nullptr);
// TQC's target atoms: the critics' quantiles [N, B, Q] pooled per sample, sorted, and the
// largest `drop_per_net * N` dropped: [B, N * Q - drop_per_net * N].
torch::Tensor truncated_quantiles(const torch::Tensor& quantiles, int64_t drop_per_net);

// target <- tau * online + (1 - tau) * target.
void polyak_update(const torch::Tensor& target, const torch::Tensor& online, double tau);

struct OffPolicyMetrics {
  double critic_loss = 0, actor_loss = 0, ent_coef = 0, q_mean = 0;  // means over the steps
  int64_t gradient_steps = 0, actor_updates = 0;
};

class OffPolicyAgent : public Agent {
 public:
  OffPolicyAgent(const EnvSpec& spec, OffPolicyConfig config, uint64_t seed, torch::Device device = torch::kCPU);
  ~OffPolicyAgent() override;

  const OffPolicyConfig& config() const { return config_; }
  int64_t action_dim() const { return action_dim_; }
  OffPolicyActor& actor() { return actor_; }
  CriticEnsemble& critic() { return critic_; }
  CriticEnsemble& critic_target() { return critic_target_; }
  OffPolicyActor& actor_target() { return actor_target_; }
  torch::Generator& generator() override { return generator_; }
  torch::Device device() const override { return device_; }

  // Env actions (rescaled to the action space's bounds): tanh(mean) when `deterministic`, else a
  // squashed Gaussian sample (SAC, TQC) or the deterministic action (TD3, whose exploration
  // noise the trainer adds).
  torch::Tensor act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) override;
  Outputs differentiable_outputs(const torch::Tensor& observations) override;
  // The same in the agent's [-1, 1] scale, for float observations [n, obs] on the CPU.
  torch::Tensor act_scaled(const torch::Tensor& observations, bool deterministic, torch::Generator& generator);
  // [-1, 1] actions -> the action space's bounds.
  torch::Tensor to_env_actions(const torch::Tensor& scaled) const;
  // gSDE: draws the exploration matrices act_scaled uses, one per env of `rows` (no-op without
  // gSDE); the trainer calls it every sde_sample_freq steps or round. They are part of save().
  void reset_exploration(int64_t rows, torch::Generator& generator) override;
  torch::Tensor exploration_state() const override { return exploration_.defined() ? exploration_.clone() : torch::Tensor(); }
  void restore_exploration_state(const torch::Tensor& state) override {
    exploration_ = state.defined() ? state.clone() : torch::Tensor();
  }

  // `gradient_steps` updates on batches sampled from `buffer`.
  OffPolicyMetrics train(ReplayBuffer& buffer, int64_t gradient_steps);
  // One update on a batch (the critics; the actor, temperature and targets when due).
  void gradient_step(const ReplaySample& batch, OffPolicyMetrics& metrics);
  void set_learning_rate(double lr);
  double ent_coef() const;
  int64_t updates() const { return updates_; }

  // The gradients of one update's critic and actor losses, flat (critic_parameters' and
  // actor_parameters' layout), without stepping anything; the actor's with the critics as they
  // are. For tests of the hand-derived path against autograd.
  std::pair<torch::Tensor, torch::Tensor> loss_gradients(const ReplaySample& batch);
  bool uses_manual_gradient() const { return manual_; }
  // Threads the critics' hand-derived passes run on (1 without them, or with one critic).
  int critic_threads() const;

  // The critics' TD targets of a batch (no gradient): [B] for SAC/TD3 (the minimum over
  // critics), [B, K] atoms for TQC. TD3's target smoothing noise is drawn from generator().
  torch::Tensor td_targets(const ReplaySample& batch);

  void save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) override;
  void load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) override;

  // tanh(mean) rescaled to the action bounds; the distribution is the pre-squash Gaussian's mean
  // and clamped log-std (SAC, TQC) or the pre-squash action (TD3). No value output: the critics
  // take the action as an input.
  InferenceGraph inference_graph(const InferenceOptions& options) override;

 private:
  torch::Tensor prepare(const torch::Tensor& observations) const;  // float [B, obs] on device
  torch::Tensor critic_input(const torch::Tensor& obs, const torch::Tensor& actions) const;
  torch::Tensor standard_normal(int64_t rows);  // [rows, d] from generator_
  // The actor's raw output for `obs` as the start of an autograd graph: a leaf fed by the
  // hand-derived pass (which keeps what actor_backward needs), or the module's output; under
  // gSDE also its last hidden features (detached).
  struct ActorOutput {
    torch::Tensor out, features;
  };
  ActorOutput actor_output(const torch::Tensor& obs);
  // A squashed sample per row; under gSDE with this gradient step's exploration matrix.
  SquashedSample sample_actions(const ActorOutput& actor);
  // gSDE in training: one exploration matrix per gradient step, shared by the batch and by its
  // next observations' actions (SB3 resets the actor's noise before every gradient step).
  void draw_training_exploration();
  torch::Tensor critic_loss(const torch::Tensor& q, const torch::Tensor& targets) const;
  // Gradients into the flat gradient tensors (losses returned); the steps are separate.
  double critic_gradient(const ReplaySample& batch, const torch::Tensor& targets, double* q_mean);
  double actor_gradient(const torch::Tensor& obs, const ActorOutput& actor, const SquashedSample* sample);
  
  OffPolicyConfig config_;
  torch::Device device_;
  int64_t observation_dim_, action_dim_;
  Space observation_space_, action_space_;
  torch::Tensor action_scale_, action_bias_;  // env = scaled * scale + bias
  torch::Generator generator_;
  OffPolicyActor actor_{nullptr}, actor_target_{nullptr};  // actor_target_: TD3 only
  CriticEnsemble critic_{nullptr}, critic_target_{nullptr};
  // Each network's parameters in one flat tensor: Adam and the Polyak update are a few large ops.
  std::unique_ptr<FlatParameters> actor_parameters_, critic_parameters_, critic_target_parameters_,
      actor_target_parameters_;
  std::unique_ptr<torch::optim::Adam> actor_optimizer_, critic_optimizer_, ent_coef_optimizer_;
  torch::Tensor log_ent_coef_;  // [1], learned when ent_coef is auto
  double target_entropy_ = 0;
  bool manual_ = false;        // the critics' hand-derived passes
  bool manual_actor_ = false;  // the actor's too (not under gSDE, whose features autograd keeps)
  MlpPass actor_pass_;  // the actor's hand-derived pass (manual_actor_)
  std::unique_ptr<WorkerPool> critic_pool_;  // critic_threads > 1 on the hand-derived path
  torch::Tensor training_exploration_;  // gSDE: this gradient step's exploration matrix [F, d]
  torch::Tensor exploration_;          // gSDE: act_scaled's exploration matrices [rows, F, d]
  int64_t updates_ = 0;  // gradient steps taken (TD3's policy delay, target update interval)
};

}  // namespace rlforge
