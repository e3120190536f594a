#include "replay_algorithm.h"

#include "replay_checkpoint.h"

namespace rlforge {

namespace {
double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

ReplayAlgorithm::ReplayAlgorithm(const ExperimentConfig& config, VectorEnv& venv, std::string state_name,
                                 int64_t train_freq, int64_t learning_starts, int64_t batch_size, int64_t replay_bytes)
    : config_(config),
      venv_(venv),
      n_(venv.num_envs()),
      state_name_(std::move(state_name)),
      learning_starts_(learning_starts),
      batch_size_(batch_size),
      save_replay_(replay_saved_with_checkpoints(config.save_replay_buffer, replay_bytes)) {
  const int64_t round = train_freq * n_;
  rounds_per_iterate_ = std::max<int64_t>(1, (1000 + round - 1) / round);
}

void ReplayAlgorithm::iterate() {
  begin_iterate();
  for (int64_t r = 0; r < rounds_per_iterate_ && env_steps_ < config_.trainer.total_steps; ++r) round();
}

std::vector<EpisodeSummary> ReplayAlgorithm::take_finished_episodes() {
  std::vector<EpisodeSummary> out;
  out.swap(finished_);
  return out;
}

void ReplayAlgorithm::step_done(Clock::time_point t0, Clock::time_point t1, Clock::time_point t2) {
  env_steps_ += n_;
  for (int64_t i = 0; i < n_; ++i) {
    if (venv_.terminated()[i] || venv_.truncated()[i]) {
      finished_.push_back({venv_.episode_returns()[i], venv_.episode_lengths()[i]});
    }
  }
  act_seconds_ += seconds_between(t0, t1);
  env_seconds_ += seconds_between(t1, t2);
  add_seconds_ += seconds_between(t2, Clock::now());
}

bool ReplayAlgorithm::learning_due() {
  // As SB3, learning may start before the buffer holds a batch: batches are drawn with
  // replacement (DQN's config refuses a batch above learning_starts).
  return env_steps_ > learning_starts_ && replay().size() >= min_fill_;
}

void ReplayAlgorithm::add_update_time(Clock::time_point start) { update_seconds_ += seconds_between(start, Clock::now()); }

std::vector<std::string> ReplayAlgorithm::state_names() const {
  std::vector<std::string> names{"generator", state_name_};
  for (auto& name : extra_state_names()) names.push_back(name);
  return names;
}

void ReplayAlgorithm::save_state(std::map<std::string, torch::Tensor>& extras, const std::string& checkpoint_dir) {
  extras["generator"] = agent().generator().get_state();
  YAML::Node n;
  n["env_steps"] = env_steps_;
  n["gradient_steps"] = gradient_steps_;
  save_extra(n, extras);
  save_replay(replay(), save_replay_, checkpoint_dir, n);
  extras[state_name_] = yaml_tensor(n);
}

void ReplayAlgorithm::restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t env_steps,
                                    const std::string& checkpoint_dir, std::ostream& log) {
  agent().generator().set_state(extras.at("generator"));
  const YAML::Node n = YAML::Load(tensor_text(extras.at(state_name_)));
  env_steps_ = env_steps;
  gradient_steps_ = n["gradient_steps"].as<int64_t>();
  restore_extra(n, extras);
  const int64_t refill = restore_replay(replay(), venv_, n, checkpoint_dir, learning_starts_, batch_size_, log);
  if (refill > 0) min_fill_ = refill;
}

std::vector<std::pair<std::string, double>> ReplayAlgorithm::time_seconds() const {
  return {{"env_steps", env_seconds_},
          {"policy_and_storage", act_seconds_ + add_seconds_},
          {"acting", act_seconds_},
          {"replay_add", add_seconds_},
          {"update", update_seconds_}};
}

}  // namespace rlforge
