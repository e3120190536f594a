// PPO behind the Trainer's Algorithm interface: a rollout of n_steps per env, then the update.
#include <chrono>

#include "rlforge/agents/ppo.h"
#include "rlforge/trainers/algorithm.h"
#include "algorithms.h"

namespace rlforge {

namespace {

class PpoAlgorithm : public Algorithm {
 public:
  PpoAlgorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device)
      : config_(config),
        ppo_(venv.spec(), config.ppo, config.run.seed, device),
        collector_(venv, config.ppo.gamma),
        buffer_(RolloutCollector::buffer_config(venv, config.ppo.n_steps)) {}

  Agent& agent() override { return ppo_; }

  void iterate() override {
    collector_.collect(ppo_.policy(), ppo_.generator(), buffer_, config_.ppo.gae_lambda);
    const int64_t steps = collector_.env_steps();
    const double progress_remaining =
        std::max(0.0, 1.0 - static_cast<double>(steps) / static_cast<double>(config_.trainer.total_steps));
    const auto start = std::chrono::steady_clock::now();
    metrics_ = ppo_.update({buffer_.observations(), buffer_.actions(), buffer_.log_probs(), buffer_.values(),
                            buffer_.advantages(), buffer_.returns()},
                           progress_remaining);
    update_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  int64_t env_steps() const override { return collector_.env_steps(); }
  std::vector<EpisodeSummary> take_finished_episodes() override { return collector_.take_finished_episodes(); }

  std::vector<Column> metric_columns() const override {
    return {{"policy_loss", "loss/policy"},
            {"value_loss", "loss/value"},
            {"entropy", "loss/entropy"},
            {"approx_kl", "ppo/approx_kl"},
            {"clip_fraction", "ppo/clip_fraction"},
            {"explained_variance", "ppo/explained_variance"},
            {"learning_rate", "schedule/learning_rate"},
            {"clip_range", "schedule/clip_range"}};
  }
  std::vector<double> metric_values() const override {
    const PpoMetrics& m = metrics_;
    return {m.policy_loss, m.value_loss, m.entropy, m.approx_kl, m.clip_fraction, m.explained_variance,
            m.learning_rate, m.clip_range};
  }

  std::vector<std::string> state_names() const override { return {"generator", "discounted_returns"}; }
  void save_state(std::map<std::string, torch::Tensor>& extras, const std::string&) override {
    extras["generator"] = ppo_.generator().get_state();
    extras["discounted_returns"] = collector_.discounted_returns().clone();
  }
  void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t env_steps, const std::string&,
                     std::ostream&) override {
    ppo_.generator().set_state(extras.at("generator"));
    collector_.restore(extras.at("discounted_returns"), env_steps);
  }

  std::vector<std::pair<std::string, double>> time_seconds() const override {
    return {{"env_steps", collector_.env_seconds()},
            {"policy_and_storage", collector_.policy_seconds()},
            {"update", update_seconds_}};
  }

 private:
  const ExperimentConfig& config_;
  Ppo ppo_;
  RolloutCollector collector_;
  RolloutBuffer buffer_;
  PpoMetrics metrics_;
  double update_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Algorithm> make_ppo_algorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device) {
  return std::make_unique<PpoAlgorithm>(config, venv, device);
}

}  // namespace rlforge
