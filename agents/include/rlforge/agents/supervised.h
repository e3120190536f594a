#pragma once
// Models learnt from data rather than from rewards: the optimisers a config can name, an MLP
// predictor with dropout and a choice of weight initialisation, and SupervisedModel, which makes
// any trained module an Agent (checkpoints, evaluation, `rlforge eval`).

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/agents/dp_sgd.h"
#include "rlforge/agents/networks.h"
#include "rlforge/envs/space.h"

namespace rlforge {

struct OptimizerConfig {
  std::string name = "adam";  // sgd | adam | adamw | rmsprop
  double learning_rate = 1e-3;
  double momentum = 0.0;      // sgd, rmsprop
  bool nesterov = false;      // sgd (needs momentum > 0)
  // L2: added to the gradient (sgd, adam, rmsprop) or decoupled from it (adamw: Loshchilov and
  // Hutter 2019).
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999;  // adam, adamw
  double eps = 1e-8;
  double alpha = 0.99;  // rmsprop's smoothing constant
  // Differentially private gradients (agent.optimizer.dp): the learner clips and noises them, then
  // this optimiser steps.
  DpSgdConfig dp;
};

// The optimiser `config` names over `parameters`; std::invalid_argument for an unknown name or
// Nesterov without momentum.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& config,
                                                        std::vector<torch::Tensor> parameters);
// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate);

struct PredictorConfig {
  MlpConfig mlp{{64, 64}, "relu", false};
  double dropout = 0.0;               // after every hidden activation, while training
  std::string init = "kaiming";       // orthogonal | xavier | kaiming | default (LibTorch's)
};

// An MLP from `in` inputs to `out` outputs. Inputs are standardised with statistics held as
// buffers (set from the training split with set_input_statistics), so a checkpoint predicts on
// raw inputs.
class PredictorImpl : public torch::nn::Module {
 public:
  PredictorImpl(int64_t in, int64_t out, const PredictorConfig& config);
  torch::Tensor forward(torch::Tensor x);
  // The same, with every linear layer recorded for DP-SGD's per-sample gradient norms.
  torch::Tensor forward(torch::Tensor x, LinearTape& tape);
  void set_input_statistics(const torch::Tensor& mean, const torch::Tensor& std);
  // The prediction from raw inputs [B, in] for export: the class (argmax) when `classification`,
  // else the outputs; the distribution output is the logits.
  InferenceGraph inference_graph(bool classification, const InferenceOptions& options) const;
  // The hidden layers (the encoder a transfer can take) and the output layer.
  torch::nn::Sequential& body() { return body_; }
  torch::nn::Linear& head() { return head_; }

 private:
  torch::nn::Sequential body_{nullptr};
  torch::nn::Linear head_{nullptr};
  torch::Tensor input_mean_, input_std_;
};
TORCH_MODULE(Predictor);

// Initialises every Linear and Conv2d layer of `module`: orthogonal (gain sqrt 2), xavier
// (Glorot uniform), kaiming (He uniform, for ReLU) with zero biases, or LibTorch's default.
void initialise_weights(torch::nn::Module& module, const std::string& scheme);

// A trained module as an Agent: `act` maps raw observations to actions (or predictions);
// checkpoints hold the module's parameters and buffers, and the optimiser's state.
class SupervisedModel : public Agent {
 public:
  using ActFn = std::function<torch::Tensor(const torch::Tensor& observations, bool deterministic, torch::Generator&)>;
  // What act() computes, as a program to export; empty for models without one.
  using GraphFn = std::function<InferenceGraph(const InferenceOptions&)>;
  // What attributions differentiate (Agent::differentiable_outputs); empty for models without it.
  using OutputsFn = std::function<Outputs(const torch::Tensor& observations)>;
  SupervisedModel(std::shared_ptr<torch::nn::Module> module, OptimizerConfig optimizer, ActFn act, uint64_t seed,
                  torch::Device device, GraphFn graph = {}, OutputsFn outputs = {});
  InferenceGraph inference_graph(const InferenceOptions& options) override;
  Outputs differentiable_outputs(const torch::Tensor& observations) override;

  torch::Tensor act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) override;
  void save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) override;
  void load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) override;
  torch::Generator& generator() override { return generator_; }
  torch::Device device() const override { return device_; }

  torch::nn::Module& module() { return *module_; }
  const std::shared_ptr<torch::nn::Module>& module_ptr() const { return module_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  const OptimizerConfig& optimizer_config() const { return optimizer_config_; }

 private:
  std::shared_ptr<torch::nn::Module> module_;
  OptimizerConfig optimizer_config_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  ActFn act_;
  GraphFn graph_;
  OutputsFn outputs_;
  torch::Generator generator_;
  torch::Device device_;
};

}  // namespace rlforge

namespace rlforge {

// Self-supervised learning on observations: an encoder (an MLP for vectors, the Nature CNN for
// uint8 frames [H, W, C]) and the head of one pretext task:
//   forward_dynamics       features(obs) and the action -> next obs - obs (vectors)
//   inverse_dynamics       features(obs), features(next obs) -> the action taken
//   masked_reconstruction  features(obs with a random share of its entries zeroed) -> obs (vectors)
//   denoising              features(obs + Gaussian noise) -> obs (vectors)
// The encoder's parameters are named encoder.K.* with the layout of PPO's actor trunk (Linear,
// activation, Linear, ...), so PPO can start from them (agent.init_layers: [actor.0=encoder.0, ...]).
class SelfSupervisedNetImpl : public torch::nn::Module {
 public:
  SelfSupervisedNetImpl(const Space& observation_space, const Space& action_space, const std::string& task,
                        const PredictorConfig& config);
  // Observations as the env gives them [B, ...] -> features [B, F].
  torch::Tensor encode(const torch::Tensor& observations);
  // The head on encoded inputs (see above); `second` is the action (forward) or the next
  // observation's features (inverse); undefined for the reconstruction tasks.
  torch::Tensor head(const torch::Tensor& features, const torch::Tensor& second);
  bool frames() const { return frames_; }

 private:
  bool frames_ = false;
  ImageLayout layout_;  // frames only
  int64_t action_inputs_ = 0;  // one-hot width (Discrete) or action elements (Box)
  bool discrete_actions_ = false;
  std::string task_;
  torch::nn::Sequential encoder_{nullptr}, head_{nullptr};
};
TORCH_MODULE(SelfSupervisedNet);

}  // namespace rlforge
