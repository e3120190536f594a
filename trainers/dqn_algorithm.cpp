// DQN behind the Trainer's Algorithm interface: rounds of train_freq vector-env steps (uniformly
// random actions before learning_starts, epsilon-greedy after) into a replay buffer, each
// followed by gradient_steps updates once learning has started; the target network is updated
// every target_update_interval env steps, as the steps pass.
#include <chrono>
#include <cmath>

#include "algorithms.h"
#include "replay_checkpoint.h"
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

class DqnAlgorithm : public Algorithm {
 public:
  DqnAlgorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device)
      : config_(config),
        c_(config.dqn),
        venv_(venv),
        n_(venv.num_envs()),
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
    const int64_t round = c_.train_freq * n_;
    rounds_per_iterate_ = std::max<int64_t>(1, (1000 + round - 1) / round);
    save_replay_ = replay_saved_with_checkpoints(config.save_replay_buffer, replay_buffer_bytes(config, venv.spec()));
  }

  Agent& agent() override { return dqn_; }

  void iterate() override {
    loss_sum_ = q_sum_ = 0;
    steps_this_iterate_ = 0;
    for (int64_t r = 0; r < rounds_per_iterate_ && env_steps_ < config_.trainer.total_steps; ++r) round();
  }

  int64_t env_steps() const override { return env_steps_; }
  std::vector<EpisodeSummary> take_finished_episodes() override {
    std::vector<EpisodeSummary> out;
    out.swap(finished_);
    return out;
  }

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
    if (c_.prioritized_replay) values.push_back(static_cast<PrioritizedReplayBuffer&>(*buffer_).beta());
    return values;
  }

  std::vector<std::string> state_names() const override { return {"generator", "dqn"}; }

  void save_state(std::map<std::string, torch::Tensor>& extras, const std::string& checkpoint_dir) override {
    extras["generator"] = dqn_.generator().get_state();
    YAML::Node n;
    n["env_steps"] = env_steps_;
    n["gradient_steps"] = gradient_steps_;
    if (c_.prioritized_replay) n["beta"] = static_cast<PrioritizedReplayBuffer&>(*buffer_).beta();
    save_replay(*buffer_, save_replay_, checkpoint_dir, n);
    YAML::Emitter out;
    out.SetDoublePrecision(17);
    out << n;
    extras["dqn"] = text_tensor(out.c_str());
  }

  void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t env_steps,
                     const std::string& checkpoint_dir, std::ostream& log) override {
    dqn_.generator().set_state(extras.at("generator"));
    const YAML::Node n = YAML::Load(tensor_text(extras.at("dqn")));
    env_steps_ = env_steps;
    gradient_steps_ = n["gradient_steps"].as<int64_t>();
    if (c_.prioritized_replay && n["beta"]) static_cast<PrioritizedReplayBuffer&>(*buffer_).set_beta(n["beta"].as<double>());
    const int64_t refill = restore_replay(*buffer_, venv_, n, checkpoint_dir, c_.learning_starts, c_.batch_size, log);
    if (refill > 0) min_fill_ = refill;
  }

  std::vector<std::pair<std::string, double>> time_seconds() const override {
    return {{"env_steps", env_seconds_},
            {"policy_and_storage", act_seconds_ + add_seconds_},
            {"acting", act_seconds_},
            {"replay_add", add_seconds_},
            {"update", update_seconds_}};
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

  double exploration_rate() const { return c_.exploration_rate(env_steps_, config_.trainer.total_steps); }

  void round() {
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
      env_steps_ += n_;
      if (env_steps_ / c_.target_update_interval != before / c_.target_update_interval) dqn_.update_target();
      for (int64_t i = 0; i < n_; ++i) {
        if (venv_.terminated()[i] || venv_.truncated()[i]) {
          finished_.push_back({venv_.episode_returns()[i], venv_.episode_lengths()[i]});
        }
      }
      const auto t3 = Clock::now();
      act_seconds_ += std::chrono::duration<double>(t1 - t0).count();
      env_seconds_ += std::chrono::duration<double>(t2 - t1).count();
      add_seconds_ += std::chrono::duration<double>(t3 - t2).count();
    }
    if (env_steps_ <= c_.learning_starts || buffer_->size() < min_fill_) return;
    const auto start = Clock::now();
    if (c_.prioritized_replay) {
      static_cast<PrioritizedReplayBuffer&>(*buffer_)
          .set_beta(linear_schedule(c_.prioritized_replay_beta0, 1.0, env_steps_, config_.trainer.total_steps));
    }
    const int64_t steps = c_.gradient_steps == -1 ? c_.train_freq * n_ : c_.gradient_steps;
    const DqnMetrics m = dqn_.train(*buffer_, steps);
    loss_sum_ += m.loss * static_cast<double>(m.gradient_steps);
    q_sum_ += m.q_mean * static_cast<double>(m.gradient_steps);
    steps_this_iterate_ += m.gradient_steps;
    gradient_steps_ += m.gradient_steps;
    update_seconds_ += since(start);
  }

  const ExperimentConfig& config_;
  const DqnConfig& c_;
  VectorEnv& venv_;
  int64_t n_;
  Dqn dqn_;
  std::unique_ptr<ReplayBuffer> buffer_;
  std::vector<int64_t> actions_;
  std::vector<EpisodeSummary> finished_;
  int64_t env_steps_ = 0;
  int64_t gradient_steps_ = 0;
  int64_t rounds_per_iterate_ = 1;
  int64_t min_fill_ = 1;
  bool save_replay_ = false;
  double loss_sum_ = 0, q_sum_ = 0;
  int64_t steps_this_iterate_ = 0;
  double act_seconds_ = 0, env_seconds_ = 0, add_seconds_ = 0, update_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Algorithm> make_dqn_algorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device) {
  return std::make_unique<DqnAlgorithm>(config, venv, device);
}

}  // namespace rlforge
