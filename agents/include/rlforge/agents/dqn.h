#pragma once
// Deep Q-learning (Mnih et al. 2015) with its common extensions: double DQN (van Hasselt et al.
// 2016), a dueling head (Wang et al. 2016), n-step returns and prioritized replay (Schaul et al.
// 2016). Hyperparameters carry Stable-Baselines3's names and defaults.
//
// The agent owns the Q-network, its target copy, Adam and a generator; the replay buffer and
// the loop that fills it belong to the trainer (trainers/dqn_algorithm.cpp), which calls
// act_epsilon() per env step and train() every train_freq steps.

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "rlforge/agents/agent.h"
#include "rlforge/agents/flat_parameters.h"
#include "rlforge/agents/networks.h"
#include "rlforge/envs/env.h"

namespace rlforge {

class ReplayBuffer;
struct ReplaySample;

struct QNetworkConfig {
  // Hidden layers of the MLP over flattened observations, or over the CNN's features for images
  // (the config's default is [64, 64] for vectors and none for images, as SB3's).
  MlpConfig mlp{{64, 64}, "relu", /*ortho_init=*/false};
  // Dueling: the last layer gives a state value V and advantages A, Q = V + A - mean(A).
  bool dueling = false;
  // Images (uint8 observations [C,H,W], [H,W,C], [H,W] or stacked [k,H,W,C]): the Nature CNN with this many
  // features comes first.
  int64_t cnn_features = 512;
};

struct DqnConfig {
  double learning_rate = 1e-4;
  int64_t buffer_size = 1'000'000;   // transitions the replay buffer keeps
  int64_t learning_starts = 100;     // env steps of uniformly random actions before learning
  int64_t batch_size = 32;
  double tau = 1.0;                  // target update: 1 copies, < 1 Polyak-averages
  double gamma = 0.99;
  int64_t train_freq = 4;            // vector-env steps between training phases
  int64_t gradient_steps = 1;        // per training phase; -1: as many as env steps collected
  int64_t target_update_interval = 10'000;  // env steps between target updates
  double exploration_fraction = 0.1;  // share of training over which epsilon falls
  double exploration_initial_eps = 1.0;
  double exploration_final_eps = 0.05;
  double max_grad_norm = 10.0;
  double adam_eps = 1e-8;
  bool double_q = false;
  int64_t n_step = 1;
  bool prioritized_replay = false;
  double prioritized_replay_alpha = 0.6;
  double prioritized_replay_beta0 = 0.4;  // annealed linearly to 1 over training
  double prioritized_replay_eps = 1e-6;
  std::string loss = "huber";  // huber (smooth L1, delta 1) | mse
  // Hand-written backward pass for tanh/relu MLP Q-networks on the CPU (the same gradient as
  // autograd, fewer ops); false, or a CNN, uses autograd.
  bool manual_gradient = true;
  QNetworkConfig policy;

  // Throws std::invalid_argument naming the first bad value.
  void validate() const;
  // Epsilon after `steps` of `total_steps` env steps: linear from initial to final over the
  // first exploration_fraction of training, final after.
  double exploration_rate(int64_t steps, int64_t total_steps) const;
};

// Q(s, .) for every action from raw observations.
class QNetworkImpl : public torch::nn::Module {
 public:
  QNetworkImpl(const Space& observation_space, int64_t actions, const QNetworkConfig& config);

  // Raw observations [B, ...] (the env's dtype) -> the float input of the network: flattened
  // vectors, or images as [B, C, H, W] scaled by 1/255.
  torch::Tensor prepare(const torch::Tensor& observations) const;
  // Q-values [B, actions] of prepared input, with autograd.
  torch::Tensor forward(const torch::Tensor& input);

  int64_t actions() const { return actions_; }
  bool image() const { return image_; }

  // Without autograd (MLPs with tanh/relu): forward keeps what backward needs; backward takes
  // dLoss/dQ [B, actions] of the last forward_manual and overwrites every parameter's gradient.
  bool manual_supported() const { return manual_; }
  torch::Tensor forward_manual(const torch::Tensor& input);
  void backward_manual(const torch::Tensor& q_grad);

  // Certification (vector input, an MLP of Linear layers and tanh, relu or elu): [B] bool, true
  // where argmax Q is the same for every raw observation within `radius` (per element) of the
  // row. A dueling head's Q-value gaps are its advantages' gaps, so it is bounded as well.
  bool bounds_supported() const;
  torch::Tensor certify_greedy(const torch::Tensor& observations, const torch::Tensor& radius);

  // Greedy actions of a batch of float observations [n, obs] (vector input only, CPU): layer
  // outputs preallocated per batch size, argmax read from memory; no autograd, no allocation
  // once warm.
  void greedy(const float* observations, int64_t n, int64_t* actions_out);
  // Greedy actions from raw observations, for export (see Dqn::inference_graph).
  InferenceGraph inference_graph(const InferenceOptions& options) const;

 private:
  torch::Tensor combine(const torch::Tensor& out) const;  // dueling V/A -> Q

  int64_t actions_;
  Space observation_space_;
  QNetworkConfig config_;
  bool image_ = false;
  ImageLayout layout_;  // images only
  torch::nn::Sequential cnn_{nullptr}, mlp_{nullptr};
  bool manual_ = false;
  MlpPass pass_;
  // greedy(): per-layer output buffers for one batch size
  std::vector<torch::Tensor> act_buffers_;
  int64_t act_batch_ = -1;
};
TORCH_MODULE(QNetwork);

struct DqnMetrics {
  double loss = 0;      // mean over the gradient steps
  double q_mean = 0;    // mean Q(s, a) of the sampled transitions
  int64_t gradient_steps = 0;
};

class Dqn : public Agent {
 public:
  Dqn(const EnvSpec& spec, DqnConfig config, uint64_t seed, torch::Device device = torch::kCPU);

  const DqnConfig& config() const { return config_; }
  QNetwork& q_network() { return q_; }
  QNetwork& target_network() { return target_; }
  torch::optim::Adam& optimizer() { return optimizer_; }
  torch::Generator& generator() override { return generator_; }
  torch::Device device() const override { return device_; }
  int64_t num_actions() const { return actions_; }

  // Greedy actions (deterministic), or epsilon-greedy with exploration_final_eps.
  torch::Tensor act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) override;
  Outputs differentiable_outputs(const torch::Tensor& observations) override;
  torch::Tensor certify_actions(const torch::Tensor& observations, const torch::Tensor& radius) override;
  // Greedy actions; the value is the largest Q-value, the distribution the Q-values.
  InferenceGraph inference_graph(const InferenceOptions& options) override;
  // Epsilon-greedy actions for `n` observations in the env's layout (`observations`: n rows of
  // the observation space's bytes, on the CPU): each row explores with probability `epsilon`
  // (a uniformly drawn action), else takes argmax Q. Draws from generator(); the network runs
  // only when some row is greedy.
  void act_epsilon(const void* observations, int64_t n, double epsilon, int64_t* actions_out);
  // Uniformly random actions (before learning_starts).
  void act_random(int64_t n, int64_t* actions_out);

  // TD targets r + discount * Q_target(s', a*) of a batch, a* = argmax of the target network,
  // or of the online network with double_q.
  torch::Tensor td_targets(const ReplaySample& batch);
  // `gradient_steps` updates on batches sampled from `buffer` (importance-weighted, and
  // priorities updated, when it is a PrioritizedReplayBuffer).
  DqnMetrics train(ReplayBuffer& buffer, int64_t gradient_steps);
  // One update on a batch: the loss, and |TD error| per sample in `td_abs` (CPU float).
  double gradient_step(const ReplaySample& batch, torch::Tensor* td_abs = nullptr, double* q_mean = nullptr);
  // target <- tau * online + (1 - tau) * target (tau = 1: a copy).
  void update_target();

  void save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) override;
  void load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) override;

 private:
  bool uses_manual_gradient() const;
  double manual_step(const ReplaySample& batch, const torch::Tensor& targets, torch::Tensor* td_abs, double* q_mean);
  double autograd_step(const ReplaySample& batch, const torch::Tensor& targets, torch::Tensor* td_abs, double* q_mean);
  uint64_t draw();
  // Global grad-norm clip, then Adam, on the flat parameters.
  void clip_and_step();

  DqnConfig config_;
  torch::Device device_;
  std::vector<int64_t> observation_shape_;
  torch::Dtype observation_dtype_;
  int64_t actions_;
  torch::Generator generator_;
  QNetwork q_, target_;
  FlatParameters parameters_, target_parameters_;
  torch::optim::Adam optimizer_;
  torch::Tensor q_grad_;  // dLoss/dQ of the manual path, reused
  std::vector<int64_t> greedy_scratch_;
};

}  // namespace rlforge
