// SAC, TD3 and TQC behind the Trainer's Algorithm interface, as SB3's off-policy loop runs them:
// rounds of train_freq vector-env steps (uniformly random actions before learning_starts, the
// actor's after, plus exploration noise when configured) into a replay buffer, each followed by
// gradient_steps updates once learning has started.
#include <chrono>
#include <cmath>

#include "algorithms.h"
#include "replay_checkpoint.h"
#include "rlforge/agents/off_policy.h"
#include "rlforge/replay/prioritized_replay_buffer.h"

namespace rlforge {

ReplayBufferConfig off_policy_replay_config(const ExperimentConfig& config, const EnvSpec& spec) {
  ReplayBufferConfig rc = replay_config_for(spec, config.off_policy.buffer_size, config.env.num_envs);
  rc.gamma = config.off_policy.gamma;
  return rc;
}

namespace {

// Ornstein-Uhlenbeck noise as SB3's OrnsteinUhlenbeckActionNoise (mean 0, theta 0.15, dt 0.01),
// or plain Gaussian noise; one process per env, restarted when its episode ends.
class ActionNoise {
 public:
  ActionNoise(const OffPolicyConfig& c, int64_t envs, int64_t dims)
      : kind_(c.action_noise), std_(c.action_noise_std), state_(torch::zeros({envs, dims})) {}

  bool active() const { return kind_ != "none"; }
  torch::Tensor sample(torch::Generator& generator) {
    const torch::Tensor gaussian = torch::randn(state_.sizes(), generator, torch::kFloat32) * std_;
    if (kind_ == "normal") return gaussian;
    constexpr double kTheta = 0.15, kDt = 1e-2;
    state_ = state_ - kTheta * state_ * kDt + gaussian * std::sqrt(kDt);
    return state_;
  }
  void reset(int64_t env) { state_[env].zero_(); }
  const torch::Tensor& state() const { return state_; }
  void set_state(const torch::Tensor& s) { state_ = s.clone(); }

 private:
  std::string kind_;
  double std_;
  torch::Tensor state_;  // [envs, dims], the OU processes
};

class OffPolicyAlgorithm : public Algorithm {
 public:
  OffPolicyAlgorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device)
      : config_(config),
        c_(config.off_policy),
        venv_(venv),
        n_(venv.num_envs()),
        agent_(venv.spec(), config.off_policy, config.run.seed, device),
        noise_(config.off_policy, n_, agent_.action_dim()),
        buffer_(off_policy_replay_config(config, venv.spec())) {
    buffer_.observe_reset(venv_);
    const int64_t round = c_.train_freq * n_;
    rounds_per_iterate_ = std::max<int64_t>(1, (1000 + round - 1) / round);
    save_replay_ = replay_saved_with_checkpoints(config.save_replay_buffer,
                                                 replay_buffer_bytes(config, venv.spec()));
    observation_shape_ = {n_};
    for (const int64_t d : venv.spec().observation_space.shape()) observation_shape_.push_back(d);
  }

  Agent& agent() override { return agent_; }

  void iterate() override {
    sums_ = OffPolicyMetrics{};
    for (int64_t r = 0; r < rounds_per_iterate_ && env_steps_ < config_.trainer.total_steps; ++r) round();
  }

  int64_t env_steps() const override { return env_steps_; }
  std::vector<EpisodeSummary> take_finished_episodes() override {
    std::vector<EpisodeSummary> out;
    out.swap(finished_);
    return out;
  }

  std::vector<Column> metric_columns() const override {
    std::vector<Column> columns{{"critic_loss", "loss/critic"},
                                {"actor_loss", "loss/actor"},
                                {"q_mean", c_.algo + "/q_mean"}};
    if (c_.entropy_regularised()) columns.push_back({"ent_coef", c_.algo + "/ent_coef"});
    columns.push_back({"learning_rate", "schedule/learning_rate"});
    columns.push_back({"gradient_steps", c_.algo + "/gradient_steps"});
    columns.push_back({"replay_size", c_.algo + "/replay_size"});
    return columns;
  }
  std::vector<double> metric_values() const override {
    const double k = static_cast<double>(sums_.gradient_steps);
    const double a = static_cast<double>(sums_.actor_updates);
    std::vector<double> values{k > 0 ? sums_.critic_loss / k : NAN, a > 0 ? sums_.actor_loss / a : NAN,
                               k > 0 ? sums_.q_mean / k : NAN};
    if (c_.entropy_regularised()) values.push_back(k > 0 ? sums_.ent_coef / k : agent_.ent_coef());
    values.push_back(learning_rate());
    values.push_back(static_cast<double>(gradient_steps_));
    values.push_back(static_cast<double>(buffer_.size()));
    return values;
  }

  std::vector<std::string> state_names() const override { return {"generator", "off_policy", "action_noise"}; }

  void save_state(std::map<std::string, torch::Tensor>& extras, const std::string& checkpoint_dir) override {
    extras["generator"] = agent_.generator().get_state();
    extras["action_noise"] = noise_.state().clone();
    YAML::Node n;
    n["env_steps"] = env_steps_;
    n["gradient_steps"] = gradient_steps_;
    save_replay(buffer_, save_replay_, checkpoint_dir, n);
    YAML::Emitter out;
    out.SetDoublePrecision(17);
    out << n;
    extras["off_policy"] = text_tensor(out.c_str());
  }

  void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t env_steps,
                     const std::string& checkpoint_dir, std::ostream& log) override {
    agent_.generator().set_state(extras.at("generator"));
    noise_.set_state(extras.at("action_noise"));
    const YAML::Node n = YAML::Load(tensor_text(extras.at("off_policy")));
    env_steps_ = env_steps;
    gradient_steps_ = n["gradient_steps"].as<int64_t>();
    const int64_t refill = restore_replay(buffer_, venv_, n, checkpoint_dir, c_.learning_starts, c_.batch_size, log);
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
  static double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

  double learning_rate() const {
    if (!c_.learning_rate_linear) return c_.learning_rate;
    return linear_schedule(c_.learning_rate, 0.0, env_steps_, config_.trainer.total_steps);
  }

  // Actions in [-1, 1] for the current observations.
  torch::Tensor scaled_actions() {
    if (env_steps_ < c_.learning_starts) {
      return torch::rand({n_, agent_.action_dim()}, agent_.generator(), torch::kFloat32) * 2.0 - 1.0;
    }
    const torch::Tensor obs =
        torch::from_blob(const_cast<void*>(venv_.observations()), observation_shape_, torch::kFloat32);
    torch::Tensor a = agent_.act_scaled(obs, /*deterministic=*/false, agent_.generator()).to(torch::kCPU);
    if (noise_.active()) a = (a + noise_.sample(agent_.generator())).clamp(-1.0, 1.0);
    return a.contiguous();
  }

  void round() {
    for (int64_t t = 0; t < c_.train_freq; ++t) {
      const auto t0 = Clock::now();
      const torch::Tensor scaled = scaled_actions();
      const torch::Tensor env_actions = agent_.to_env_actions(scaled.to(agent_.device())).to(torch::kCPU).contiguous();
      const auto t1 = Clock::now();
      venv_.step(ActionRef{env_actions.data_ptr<float>(), DType::Float32, static_cast<std::size_t>(env_actions.numel())});
      const auto t2 = Clock::now();
      buffer_.add(venv_, scaled);
      env_steps_ += n_;
      for (int64_t i = 0; i < n_; ++i) {
        if (venv_.terminated()[i] || venv_.truncated()[i]) {
          finished_.push_back({venv_.episode_returns()[i], venv_.episode_lengths()[i]});
          noise_.reset(i);
        }
      }
      const auto t3 = Clock::now();
      act_seconds_ += seconds(t0, t1);
      env_seconds_ += seconds(t1, t2);
      add_seconds_ += seconds(t2, t3);
    }
    // As SB3, learning may start before the buffer holds a batch: batches are drawn with replacement.
    if (env_steps_ <= c_.learning_starts || buffer_.size() < min_fill_) return;
    const auto start = Clock::now();
    agent_.set_learning_rate(learning_rate());
    const int64_t steps = c_.gradient_steps == -1 ? c_.train_freq * n_ : c_.gradient_steps;
    const OffPolicyMetrics m = agent_.train(buffer_, steps);
    const double k = static_cast<double>(m.gradient_steps), a = static_cast<double>(m.actor_updates);
    sums_.critic_loss += m.critic_loss * k;
    sums_.actor_loss += m.actor_loss * a;
    sums_.q_mean += m.q_mean * k;
    sums_.ent_coef += m.ent_coef * k;
    sums_.gradient_steps += m.gradient_steps;
    sums_.actor_updates += m.actor_updates;
    gradient_steps_ += m.gradient_steps;
    update_seconds_ += seconds(start, Clock::now());
  }

  const ExperimentConfig& config_;
  const OffPolicyConfig& c_;
  VectorEnv& venv_;
  int64_t n_;
  OffPolicyAgent agent_;
  ActionNoise noise_;
  ReplayBuffer buffer_;
  std::vector<int64_t> observation_shape_;
  std::vector<EpisodeSummary> finished_;
  int64_t env_steps_ = 0;
  int64_t gradient_steps_ = 0;
  int64_t rounds_per_iterate_ = 1;
  int64_t min_fill_ = 1;
  bool save_replay_ = false;
  OffPolicyMetrics sums_;  // this iterate's sums (means are taken in metric_values)
  double act_seconds_ = 0, env_seconds_ = 0, add_seconds_ = 0, update_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Algorithm> make_off_policy_algorithm(const ExperimentConfig& config, VectorEnv& venv,
                                                     torch::Device device) {
  return std::make_unique<OffPolicyAlgorithm>(config, venv, device);
}

}  // namespace rlforge
