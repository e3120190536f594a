// SAC, TD3 and TQC behind the Trainer's Algorithm interface, as SB3's off-policy loop runs them:
// rounds of train_freq vector-env steps (uniformly random actions before learning_starts, the
// actor's after, plus exploration noise when configured) into a replay buffer, each followed by
// gradient_steps updates once learning has started.
#include <cmath>

#include "algorithms.h"
#include "replay_algorithm.h"
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

class OffPolicyAlgorithm : public ReplayAlgorithm {
 public:
  OffPolicyAlgorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device)
      : ReplayAlgorithm(config, venv, "off_policy", config.off_policy.train_freq, config.off_policy.learning_starts,
                        config.off_policy.batch_size, replay_buffer_bytes(config, venv.spec())),
        c_(config.off_policy),
        agent_(venv.spec(), config.off_policy, config.run.seed, device),
        noise_(config.off_policy, n_, agent_.action_dim()),
        buffer_(off_policy_replay_config(config, venv.spec())) {
    buffer_.observe_reset(venv_);
    observation_shape_ = {n_};
    for (const int64_t d : venv.spec().observation_space.shape()) observation_shape_.push_back(d);
  }

  Agent& agent() override { return agent_; }

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

 private:
  ReplayBuffer& replay() override { return buffer_; }
  std::vector<std::string> extra_state_names() const override { return {"action_noise"}; }
  void save_extra(YAML::Node& /*state*/, std::map<std::string, torch::Tensor>& extras) override {
    extras["action_noise"] = noise_.state().clone();
  }
  void restore_extra(const YAML::Node& /*state*/, const std::map<std::string, torch::Tensor>& extras) override {
    noise_.set_state(extras.at("action_noise"));
  }

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

  void begin_iterate() override { sums_ = OffPolicyMetrics{}; }

  void round() override {
    for (int64_t t = 0; t < c_.train_freq; ++t) {
      // gSDE's exploration matrices: new at every round, as SB3's collect_rollouts, and every
      // sde_sample_freq steps within it.
      if (c_.use_sde && (t == 0 || (c_.sde_sample_freq > 0 && t % c_.sde_sample_freq == 0))) {
        agent_.reset_exploration(n_, agent_.generator());
      }
      const auto t0 = Clock::now();
      const torch::Tensor scaled = scaled_actions();
      const torch::Tensor env_actions = agent_.to_env_actions(scaled.to(agent_.device())).to(torch::kCPU).contiguous();
      const auto t1 = Clock::now();
      venv_.step(ActionRef{env_actions.data_ptr<float>(), DType::Float32, static_cast<std::size_t>(env_actions.numel())});
      const auto t2 = Clock::now();
      buffer_.add(venv_, scaled);
      for (int64_t i = 0; i < n_; ++i) {
        if (venv_.terminated()[i] || venv_.truncated()[i]) noise_.reset(i);
      }
      step_done(t0, t1, t2);
    }
    if (!learning_due()) return;
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
    add_update_time(start);
  }

  const OffPolicyConfig& c_;
  OffPolicyAgent agent_;
  ActionNoise noise_;
  ReplayBuffer buffer_;
  std::vector<int64_t> observation_shape_;
  OffPolicyMetrics sums_;  // this iterate's sums (means are taken in metric_values)
};

}  // namespace

std::unique_ptr<Algorithm> make_off_policy_algorithm(const ExperimentConfig& config, VectorEnv& venv,
                                                     torch::Device device) {
  return std::make_unique<OffPolicyAlgorithm>(config, venv, device);
}

}  // namespace rlforge
