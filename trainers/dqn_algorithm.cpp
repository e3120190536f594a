// DQN behind the Trainer's Algorithm interface: rounds of train_freq vector-env steps (uniformly
// random actions before learning_starts, epsilon-greedy after) into a replay buffer, each
// followed by gradient_steps updates once learning has started; the target network is updated
// every target_update_interval env steps, as the steps pass.
#include <chrono>
#include <cmath>

#include "algorithms.h"
#include "replay_algorithm.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/agents/dqn.h"
#include "rlforge/replay/prioritized_replay_buffer.h"

namespace rlforge {

ReplayBufferConfig dqn_replay_config(const ExperimentConfig& config, const EnvSpec& spec) {
  ReplayBufferConfig rc = replay_config_for(spec, config.dqn.buffer_size, config.env.num_envs);
  rc.n_step = config.dqn.n_step;
  rc.gamma = config.dqn.gamma;
  // A FrameStack wrapper last in the chain gives [k, ...] stacks sharing k - 1 frames step to
  // step: the buffer stores one frame per step.
  if (!config.env.wrappers.empty() && config.env.wrappers.back().name == "FrameStack" &&
      spec.observation_space.shape().size() >= 2) {
    rc.frame_stack = spec.observation_space.shape().front();
  }
  return rc;
}

int64_t replay_buffer_bytes(const ExperimentConfig& config, const EnvSpec& spec) {
  if (config.algo != "dqn") return ReplayBuffer::memory_bytes(off_policy_replay_config(config, spec));
  const ReplayBufferConfig rc = dqn_replay_config(config, spec);
  return config.dqn.prioritized_replay ? PrioritizedReplayBuffer::memory_bytes(rc) : ReplayBuffer::memory_bytes(rc);
}

namespace {

class DqnAlgorithm : public ReplayAlgorithm {
 public:
  DqnAlgorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device)
      : ReplayAlgorithm(config, venv, "dqn", config.dqn.train_freq, config.dqn.learning_starts, config.dqn.batch_size,
                        replay_buffer_bytes(config, venv.spec())),
        c_(config.dqn),
        dqn_(venv.spec(), config.dqn, config.run.seed, device),
        actions_(static_cast<std::size_t>(n_)) {
    const ReplayBufferConfig rc = dqn_replay_config(config, venv.spec());
    if (c_.prioritized_replay) {
      buffer_ = std::make_unique<PrioritizedReplayBuffer>(
          rc, PrioritizedReplayConfig{c_.prioritized_replay_alpha, c_.prioritized_replay_beta0, c_.prioritized_replay_eps});
    } else {
      buffer_ = std::make_unique<ReplayBuffer>(rc);
    }
    buffer_->observe_reset(venv_);
  }

  Agent& agent() override { return dqn_; }

  std::vector<Column> metric_columns() const override {
    std::vector<Column> columns{{"loss", "loss/td"},
                                {"q_mean", "dqn/q_mean"},
                                {"exploration_rate", "schedule/exploration_rate"},
                                {"learning_rate", "schedule/learning_rate"},
                                {"gradient_steps", "dqn/gradient_steps"},
                                {"replay_size", "dqn/replay_size"}};
    if (c_.prioritized_replay) columns.push_back({"beta", "schedule/per_beta"});
    return columns;
  }
  std::vector<double> metric_values() const override {
    const double k = static_cast<double>(steps_this_iterate_);
    std::vector<double> values{k > 0 ? loss_sum_ / k : NAN,
                               k > 0 ? q_sum_ / k : NAN,
                               exploration_rate(),
                               c_.learning_rate,
                               static_cast<double>(gradient_steps_),
                               static_cast<double>(buffer_->size())};
    if (c_.prioritized_replay) values.push_back(prioritized().beta());
    return values;
  }

 private:
  ReplayBuffer& replay() override { return *buffer_; }
  PrioritizedReplayBuffer& prioritized() const { return static_cast<PrioritizedReplayBuffer&>(*buffer_); }

  void save_extra(YAML::Node& state, std::map<std::string, torch::Tensor>& /*extras*/) override {
    if (c_.prioritized_replay) state["beta"] = prioritized().beta();
  }
  void restore_extra(const YAML::Node& state, const std::map<std::string, torch::Tensor>& /*extras*/) override {
    if (c_.prioritized_replay && state["beta"]) prioritized().set_beta(state["beta"].as<double>());
  }

  double exploration_rate() const { return c_.exploration_rate(env_steps_, config_.trainer.total_steps); }

  void begin_iterate() override {
    loss_sum_ = q_sum_ = 0;
    steps_this_iterate_ = 0;
  }

  void round() override {
    int64_t* actions = actions_.data();
    for (int64_t t = 0; t < c_.train_freq; ++t) {
      const auto t0 = Clock::now();
      if (env_steps_ < c_.learning_starts) {
        dqn_.act_random(n_, actions);
      } else {
        dqn_.act_epsilon(venv_.observations(), n_, exploration_rate(), actions);
      }
      const auto t1 = Clock::now();
      venv_.step(ActionRef{actions, DType::Int64, static_cast<std::size_t>(n_)});
      const auto t2 = Clock::now();
      buffer_->add(venv_, actions);
      const int64_t before = env_steps_;
      step_done(t0, t1, t2);
      if (env_steps_ / c_.target_update_interval != before / c_.target_update_interval) dqn_.update_target();
    }
    if (!learning_due()) return;
    const auto start = Clock::now();
    if (c_.prioritized_replay) {
      prioritized().set_beta(linear_schedule(c_.prioritized_replay_beta0, 1.0, env_steps_, config_.trainer.total_steps));
    }
    const int64_t steps = c_.gradient_steps == -1 ? c_.train_freq * n_ : c_.gradient_steps;
    const DqnMetrics m = dqn_.train(*buffer_, steps);
    loss_sum_ += m.loss * static_cast<double>(m.gradient_steps);
    q_sum_ += m.q_mean * static_cast<double>(m.gradient_steps);
    steps_this_iterate_ += m.gradient_steps;
    gradient_steps_ += m.gradient_steps;
    add_update_time(start);
  }

  const DqnConfig& c_;
  Dqn dqn_;
  std::unique_ptr<ReplayBuffer> buffer_;
  std::vector<int64_t> actions_;
  double loss_sum_ = 0, q_sum_ = 0;
  int64_t steps_this_iterate_ = 0;
};

}  // namespace

std::unique_ptr<Algorithm> make_dqn_algorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device) {
  return std::make_unique<DqnAlgorithm>(config, venv, device);
}

}  // namespace rlforge
