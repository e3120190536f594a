// Reinforcement learning behind the Trainer's Learner interface: an Algorithm (PPO, DQN)
// stepping a vector env, the recent episodes' statistics, evaluation episodes on envs of their
// own, and recordings of evaluation episodes.
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <sstream>

#include "rlforge/envs/episode_player.h"
#include "rlforge/envs/seeds.h"
#include "rlforge/render/image_files.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/learner.h"
#include "rlforge/trainers/trainer.h"

namespace rlforge {

namespace {

class RlLearner : public Learner {
 public:
  RlLearner(const ExperimentConfig& config, torch::Device device, Distributed* distributed)
      : config_(config), venv_(config.env) {
    follow_curriculum();
    venv_.reset(seeds::training(config.run.seed));
    algorithm_ = make_algorithm(config, venv_, device, distributed);
    eval_env_ = evaluation_env(config.trainer.eval_episodes);
  }

  Agent& agent() override { return algorithm_->agent(); }
  std::string step_unit() const override { return "env_steps"; }
  int64_t steps() const override { return algorithm_->env_steps(); }

  void iterate() override {
    follow_curriculum();
    algorithm_->iterate();
    for (const EpisodeSummary& ep : algorithm_->take_finished_episodes()) {
      recent_.push_back(ep);
      if (recent_.size() > 100) recent_.pop_front();
      ++episodes_;
    }
  }

  std::vector<Column> metric_columns() const override {
    std::vector<Column> columns{
        {"episodes", ""}, {"mean_return", "rollout/episode_return"}, {"mean_length", "rollout/episode_length"}};
    for (const auto& c : algorithm_->metric_columns()) columns.push_back({c.name, c.tag});
    return columns;
  }
  std::vector<double> metric_values() const override {
    const auto [mean_return, mean_length] = recent_means();
    std::vector<double> values{static_cast<double>(episodes_), mean_return, mean_length};
    for (const double v : algorithm_->metric_values()) values.push_back(v);
    return values;
  }
  std::pair<std::string, double> headline() const override { return {"return", recent_means().first}; }

  std::vector<Column> eval_columns() const override {
    return {{"mean_return", "eval/mean_return"},
            {"std_return", "eval/std_return"},
            {"mean_length", "eval/mean_length"},
            {"episodes", ""}};
  }
  std::pair<std::string, bool> score_column() const override { return {"mean_return", false}; }

  Evaluation evaluate(bool /*final*/) override {
    const auto start = std::chrono::steady_clock::now();
    // Validation seeds, apart from the training seeds (rlforge/envs/seeds.h), and a generator of
    // its own for sampled actions, so that evaluating never changes training's random numbers.
    torch::Generator generator = at::detail::createCPUGenerator(eval_seed());
    const EvaluationResult e = evaluate_agent(agent(), eval_env_, config_.trainer.eval_episodes, eval_seed(),
                                              config_.trainer.eval_deterministic, generator);
    eval_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Evaluation out;
    out.values = {e.mean_return, e.std_return, e.mean_length, static_cast<double>(e.episodes)};
    out.score = e.mean_return;
    std::ostringstream line;
    line << "mean_return " << e.mean_return << " +- " << e.std_return << " (" << e.episodes << " episodes)";
    out.text = line.str();
    out.episodes = e;
    return out;
  }

  // The held-out test evaluation (rlforge/envs/seeds.h's test seeds, which neither training nor
  // the evaluations that selected best.pt used): the final model's score, then best.pt's, so that
  // the score that selected best.pt is not the one reported for it.
  void finish(YAML::Node& summary, const std::string& best_checkpoint, std::ostream& log) override {
    const int64_t episodes = config_.trainer.test_episodes;
    if (episodes == 0) return;
    const auto start = std::chrono::steady_clock::now();
    const VectorEnvConfig test_env = evaluation_env(episodes);
    const uint64_t seed = seeds::test(base_seed());
    auto run_test = [&] {
      torch::Generator generator = at::detail::createCPUGenerator(seed);
      return evaluate_agent(agent(), test_env, episodes, seed, config_.trainer.eval_deterministic, generator);
    };
    YAML::Node test;
    test["first_seed"] = seed;
    test["episodes"] = episodes;
    test["deterministic"] = config_.trainer.eval_deterministic;
    const EvaluationResult final_model = run_test();
    test["final"] = result_node(final_model, steps());
    std::ostringstream line;
    line << "test (held-out seeds from " << seed << ", " << episodes << " episodes): final model "
         << final_model.mean_return << " +- " << final_model.std_return;
    if (std::filesystem::exists(best_checkpoint)) {
      const Checkpoint best = load_checkpoint(best_checkpoint, agent());
      const EvaluationResult best_model = run_test();
      test["best"] = result_node(best_model, best.env_steps);
      line << "; best.pt (" << best.env_steps << " steps) " << best_model.mean_return << " +- " << best_model.std_return;
    }
    summary["test"] = test;
    eval_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log << line.str() << std::endl;
  }

  std::vector<std::string> state_names() const override {
    std::vector<std::string> names{"venv", "episodes"};
    for (const std::string& name : algorithm_->state_names()) names.push_back(name);
    return names;
  }
  void save_state(std::map<std::string, torch::Tensor>& extras, const std::string& checkpoint_dir) override {
    extras["venv"] = text_tensor(venv_.snapshot());
    YAML::Node n;
    n["count"] = episodes_;
    YAML::Node r(YAML::NodeType::Sequence);
    for (const auto& e : recent_) {
      YAML::Node item;
      item.push_back(e.episode_return);
      item.push_back(e.length);
      r.push_back(item);
    }
    n["recent"] = r;
    extras["episodes"] = yaml_tensor(n);
    algorithm_->save_state(extras, checkpoint_dir);
  }
  void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t steps,
                     const std::string& checkpoint_dir, std::ostream& log) override {
    try {
      venv_.restore(tensor_text(extras.at("venv")));
    } catch (const EnvError& e) {
      throw std::runtime_error(checkpoint_dir + "/last.pt: " + e.what());
    }
    algorithm_->restore_state(extras, steps, checkpoint_dir, log);
    const YAML::Node n = YAML::Load(tensor_text(extras.at("episodes")));
    episodes_ = n["count"].as<int64_t>();
    recent_.clear();
    for (const auto& item : n["recent"]) recent_.push_back({item[0].as<double>(), item[1].as<int64_t>()});
  }

  std::vector<std::pair<std::string, double>> time_seconds() const override {
    auto parts = algorithm_->time_seconds();
    parts.emplace_back("evaluation", eval_seconds_);
    parts.emplace_back("recording", record_seconds_);
    return parts;
  }

  bool can_record() const override { return EpisodePlayer(config_.env).env().can_render(); }

  // One evaluation episode (the evaluation seed, a generator of its own so that recording
  // leaves training's random numbers alone).
  std::string record(const std::string& path) override {
    const auto start = std::chrono::steady_clock::now();
    const TrainerSection& t = config_.trainer;
    EpisodePlayer player(config_.env);
    const RenderHints hints = player.env().render_hints();
    const int width = t.record_width > 0 ? t.record_width : hints.width;
    const int height = t.record_height > 0 ? t.record_height : hints.height;
    const double wanted_fps = t.record_fps > 0 ? t.record_fps : hints.fps;
    RecordingSettings settings;
    settings.seed = eval_seed();
    settings.width = width;
    settings.height = height;
    settings.frame_stride = std::max(1, static_cast<int>(std::lround(hints.fps / wanted_fps)));
    const auto recorder = open_recorder(path, width, height, hints.fps / settings.frame_stride);
    torch::Generator generator = at::detail::createCPUGenerator(eval_seed());
    const ExplorationScope own_noise(agent(), t.eval_deterministic, 1, generator);
    const RecordedEpisodes r =
        record_episodes(player, agent_actions(agent(), player.spec(), t.eval_deterministic, generator), *recorder, settings);
    recorder->finish();
    record_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return "recorded " + path + " (return " + std::to_string(r.returns.front()) + ")";
  }

  CurveSpec curve(const std::string& title) const override { return return_curve(title); }

 private:
  // Mean return and length of the last 100 finished training episodes (NaN before the first).
  std::pair<double, double> recent_means() const {
    if (recent_.empty()) return {NAN, NAN};
    double mean_return = 0, mean_length = 0;
    for (const auto& ep : recent_) {
      mean_return += ep.episode_return;
      mean_length += static_cast<double>(ep.length);
    }
    const auto n = static_cast<double>(recent_.size());
    return {mean_return / n, mean_length / n};
  }

  // env.curriculum: the training envs' ranges grow with the env steps taken (the evaluation envs
  // draw from the whole ranges). Set before each iteration, so that a resumed run draws as the
  // original did, whatever the number of threads.
  void follow_curriculum() {
    const int64_t taken = algorithm_ ? algorithm_->env_steps() : 0;
    venv_.set_randomize_reach(config_.env.curriculum.reach(taken, config_.trainer.total_steps));
  }

  // The envs an evaluation of `episodes` episodes plays on: up to 8 at once, on this thread.
  VectorEnvConfig evaluation_env(int64_t episodes) const {
    VectorEnvConfig env = config_.env;
    env.num_envs = static_cast<int>(std::min<int64_t>(episodes, 8));
    env.threads = 1;
    return env;
  }

  static YAML::Node result_node(const EvaluationResult& e, int64_t env_steps) {
    YAML::Node n;
    n["mean_return"] = e.mean_return;
    n["std_return"] = e.std_return;
    n["mean_length"] = e.mean_length;
    n["episodes"] = e.episodes;
    n["env_steps"] = env_steps;
    return n;
  }

  // Only the first rank evaluates and records, and its seed is the run's.
  uint64_t base_seed() const { return config_.run.seed; }
  uint64_t eval_seed() const { return seeds::validation(base_seed()); }

  const ExperimentConfig& config_;
  VectorEnv venv_;
  std::unique_ptr<Algorithm> algorithm_;
  VectorEnvConfig eval_env_;
  std::deque<EpisodeSummary> recent_;
  int64_t episodes_ = 0;
  double eval_seconds_ = 0, record_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Learner> make_rl_learner(const ExperimentConfig& config, torch::Device device, Distributed* distributed) {
  return std::make_unique<RlLearner>(config, device, distributed);
}

}  // namespace rlforge
