#pragma once
// What every learning agent offers the code around it (the trainer's evaluation and checkpoints,
// `rlforge eval` and `rlforge record`): actions for a batch of observations, and its weights and
// optimiser state in and out of archives.

#include <torch/torch.h>

#include <stdexcept>

#include "rlforge/agents/inference_graph.h"

namespace rlforge {

class Agent {
 public:
  virtual ~Agent() = default;

  // Actions for raw observations [B, ...] as the env gives them (any device): the most likely
  // one per row when `deterministic`, else drawn from the agent's behaviour policy with
  // `generator`. Returns [B] int64 (Discrete) or [B, d] float32 (Box, unclipped).
  virtual torch::Tensor act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) = 0;

  // Weights (with normalisation statistics and target networks) and optimiser state.
  virtual void save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) = 0;
  virtual void load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) = 0;

  // Exploration noise the agent keeps between calls to act() (PPO's gSDE weights; none by
  // default). An evaluation that samples actions takes it out, draws its own with
  // reset_exploration() and puts it back (ExplorationScope, rlforge/evaluation/evaluation.h), so that
  // evaluating never changes what training draws next.
  virtual torch::Tensor exploration_state() const { return {}; }
  virtual void restore_exploration_state(const torch::Tensor& /*state*/) {}
  virtual void reset_exploration(int64_t /*batch*/, torch::Generator& /*generator*/) {}

  // What the agent chooses its action from, as a function of raw observations [B, ...] converted
  // to float32 (pixel levels for images), with autograd on: observation attacks and attributions
  // differentiate it with respect to the observation. `action`: the logits (PPO) or Q-values (DQN)
  // [B, n] for Discrete actions, the deterministic action before clipping [B, d] for Box ones;
  // `value`: the critic's estimate [B] (DQN: the largest Q-value). Agents without a policy to
  // attack throw std::logic_error.
  struct Outputs {
    torch::Tensor action, value;
  };
  virtual Outputs differentiable_outputs(const torch::Tensor& observations);

  // Certification: for raw observations [B, ...] and a radius per observation element (one
  // observation's shape, or flat), [B] bool: true where the action act(deterministic) takes is
  // provably the same for every observation within that L-infinity box around the row (interval
  // bound propagation: sound, not complete; a false row may still resist every attack). An
  // undefined tensor when the agent cannot bound its policy (Box actions, images, activations
  // other than tanh, relu or elu, agents without such a policy).
  virtual torch::Tensor certify_actions(const torch::Tensor& /*observations*/, const torch::Tensor& /*radius*/) {
    return {};
  }

  // The deterministic policy (what act(deterministic) computes) as a program that export/ writes
  // as TorchScript or ONNX. Agents that cannot be exported throw std::logic_error.
  virtual InferenceGraph inference_graph(const InferenceOptions& options);

  // The agent's own random numbers (training's exploration, replay sampling, minibatch order).
  virtual torch::Generator& generator() = 0;
  virtual torch::Device device() const = 0;
};

inline Agent::Outputs Agent::differentiable_outputs(const torch::Tensor& /*observations*/) {
  throw std::logic_error("this agent exposes no differentiable policy (attacks and attributions need PPO, DQN, SAC, TD3 or TQC)");
}

inline InferenceGraph Agent::inference_graph(const InferenceOptions& /*options*/) {
  throw std::logic_error("this agent has no exportable policy");
}

}  // namespace rlforge
