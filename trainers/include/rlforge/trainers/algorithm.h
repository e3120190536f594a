#pragma once
// What the Trainer loop needs from a learning algorithm, so that one loop (run directory,
// logging, evaluation, checkpoints, exact resume, recordings, Ctrl-C) serves PPO and DQN alike.
//
// An Algorithm owns its agent and whatever it collects experience into (PPO's rollout buffer,
// DQN's replay buffer), and steps the training vector env the Trainer gives it. One iterate()
// is one row of metrics.csv: for PPO a rollout and its update, for DQN enough train_freq rounds
// (collection, then gradient steps) to cover about 1,000 env steps.

#include <torch/torch.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/replay/replay_buffer.h"
#include "rlforge/trainers/config.h"
#include "rlforge/trainers/rollout_collector.h"

namespace rlforge {

class Algorithm {
 public:
  virtual ~Algorithm() = default;

  virtual Agent& agent() = 0;
  // Collects env steps and learns from them; throws std::runtime_error when learning breaks
  // down (a NaN loss).
  virtual void iterate() = 0;
  virtual int64_t env_steps() const = 0;
  // Episodes finished since the last call.
  virtual std::vector<EpisodeSummary> take_finished_episodes() = 0;

  // metrics.csv columns after env_steps, episodes, mean_return, mean_length, each with its
  // TensorBoard tag, and their values after the last iterate().
  struct Column {
    std::string name, tag;
  };
  virtual std::vector<Column> metric_columns() const = 0;
  virtual std::vector<double> metric_values() const = 0;

  // Exact resume. save_state() adds the algorithm's own state to a checkpoint's extras (and
  // may write files into `checkpoint_dir`); restore_state() takes them back after the agent's
  // weights and the env have been loaded. state_names() lists the extras restore_state needs.
  virtual std::vector<std::string> state_names() const = 0;
  virtual void save_state(std::map<std::string, torch::Tensor>& extras, const std::string& checkpoint_dir) = 0;
  virtual void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t env_steps,
                             const std::string& checkpoint_dir, std::ostream& log) = 0;

  // Seconds spent, by part, since construction (summary.yaml's time_seconds), in order.
  virtual std::vector<std::pair<std::string, double>> time_seconds() const = 0;
};

class Distributed;

// The algorithm of config.algo training on `venv` (already reset with config.run.seed). With an
// active `distributed` (PPO only; DQN refuses it), it trains data-parallel with the other ranks
// and env_steps() counts the steps of all of them.
std::unique_ptr<Algorithm> make_algorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device,
                                          Distributed* distributed = nullptr);

// The agent alone (evaluation, recording): PPO's or DQN's, for an env of `spec`.
std::unique_ptr<Agent> make_agent(const ExperimentConfig& config, const EnvSpec& spec, uint64_t seed,
                                  torch::Device device);

// The replay buffer a DQN config asks for on an env of `spec` with `num_envs` envs (a trailing
// FrameStack wrapper's stacks are stored one frame per step).
ReplayBufferConfig dqn_replay_config(const ExperimentConfig& config, const EnvSpec& spec);
// The replay buffer of SAC, TD3 or TQC (actions stored in the agent's [-1, 1] scale).
ReplayBufferConfig off_policy_replay_config(const ExperimentConfig& config, const EnvSpec& spec);
// Bytes the replay buffer of config.algo (dqn, prioritized or not; sac, td3, tqc) will allocate.
int64_t replay_buffer_bytes(const ExperimentConfig& config, const EnvSpec& spec);

// Text, as YAML, to and from a 1-D uint8 tensor (checkpoint extras).
torch::Tensor text_tensor(const std::string& text);
std::string tensor_text(const torch::Tensor& t);
// A YAML node as such a tensor, its numbers written with 17 digits so that they read back exactly.
torch::Tensor yaml_tensor(const YAML::Node& node);

}  // namespace rlforge
