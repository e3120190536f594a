#pragma once
// What DQN and the off-policy actor-critics (SAC, TD3, TQC) share around their agents: rounds of
// train_freq vector-env steps into a replay buffer, each followed by gradient steps once learning
// has started (one iterate() covers about 1,000 env steps); the finished episodes; the time spent
// by part; and exact resume (the agent's generator, the counters and the replay buffer beside
// last.pt, or a refill when the buffer cannot come back).

#include <chrono>
#include <string>
#include <vector>

#include "rlforge/trainers/algorithm.h"

namespace rlforge {

class ReplayAlgorithm : public Algorithm {
 public:
  void iterate() override;
  int64_t env_steps() const override { return env_steps_; }
  std::vector<EpisodeSummary> take_finished_episodes() override;
  std::vector<std::string> state_names() const override;
  void save_state(std::map<std::string, torch::Tensor>& extras, const std::string& checkpoint_dir) override;
  void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t env_steps,
                     const std::string& checkpoint_dir, std::ostream& log) override;
  std::vector<std::pair<std::string, double>> time_seconds() const override;

 protected:
  // `state_name`: the checkpoint extra holding the counters (as YAML); `replay_bytes`: what the
  // buffer allocates (agent.save_replay_buffer: auto saves it up to 256 MiB).
  ReplayAlgorithm(const ExperimentConfig& config, VectorEnv& venv, std::string state_name, int64_t train_freq,
                  int64_t learning_starts, int64_t batch_size, int64_t replay_bytes);

  virtual ReplayBuffer& replay() = 0;
  // Clears the metric sums of the last iterate.
  virtual void begin_iterate() = 0;
  // One round: train_freq collection steps (each ending with step_done()), then, when
  // learning_due(), the gradient steps (timed with update_timer()).
  virtual void round() = 0;
  // The derived class's own state in checkpoints: YAML fields and tensors (names listed in
  // extra_state_names()).
  virtual std::vector<std::string> extra_state_names() const { return {}; }
  virtual void save_extra(YAML::Node& /*state*/, std::map<std::string, torch::Tensor>& /*extras*/) {}
  virtual void restore_extra(const YAML::Node& /*state*/, const std::map<std::string, torch::Tensor>& /*extras*/) {}

  using Clock = std::chrono::steady_clock;
  // After venv.step and replay().add: counts the env steps and keeps the episodes that ended.
  // t0, t1, t2: before acting, before the env step, after it (storing ends now).
  void step_done(Clock::time_point t0, Clock::time_point t1, Clock::time_point t2);
  bool learning_due();
  void add_update_time(Clock::time_point start);

  const ExperimentConfig& config_;
  VectorEnv& venv_;
  const int64_t n_;  // envs
  int64_t env_steps_ = 0;
  int64_t gradient_steps_ = 0;

 private:
  std::string state_name_;
  int64_t learning_starts_, batch_size_;
  int64_t rounds_per_iterate_ = 1;
  int64_t min_fill_ = 1;  // transitions needed before learning (more after a refill)
  bool save_replay_ = false;
  std::vector<EpisodeSummary> finished_;
  double act_seconds_ = 0, env_seconds_ = 0, add_seconds_ = 0, update_seconds_ = 0;
};

}  // namespace rlforge
