#include "rlforge/trainers/rollout_collector.h"

#include <algorithm>
#include <chrono>

namespace rlforge {

RolloutBufferConfig RolloutCollector::buffer_config(const VectorEnv& venv, int64_t n_steps,
                                                    const ActorCriticImpl& policy) {
  const EnvSpec& spec = venv.spec();
  RolloutBufferConfig c;
  c.n_steps = n_steps;
  c.num_envs = venv.num_envs();
  // The buffer keeps what the policy saw (ActorCritic::prepare): flattened float features, or
  // uint8 images [C, H, W].
  c.observation_shape = policy.feature_shape();
  c.observation_dtype = policy.feature_dtype();
  c.action_shape = spec.action_space.shape();
  c.action_dtype = torch_dtype(spec.action_space.dtype());
  return c;
}

RolloutCollector::RolloutCollector(VectorEnv& venv, double gamma)
    : venv_(venv),
      env_(venv),
      gamma_(gamma),
      discounted_returns_(torch::zeros({venv.num_envs()})),
      no_bootstrap_(torch::zeros({venv.num_envs()})) {}

void RolloutCollector::collect(ActorCritic& policy, torch::Generator& generator,
                               RolloutBuffer& buffer, double gae_lambda, const ObservationAttack& attack) {
  torch::NoGradGuard no_grad;
  using Clock = std::chrono::steady_clock;
  const auto collect_start = Clock::now();
  double env_seconds = 0;
  const int64_t n = venv_.num_envs();
  const auto device = policy->parameters().front().device();
  buffer.clear();
  const ActorCriticConfig& pc = policy->config();
  if (pc.use_sde) policy->reset_noise(n, generator);
  for (int64_t step = 0; !buffer.full(); ++step) {
    if (pc.use_sde && pc.sde_sample_freq > 0 && step > 0 && step % pc.sde_sample_freq == 0) {
      policy->reset_noise(n, generator);
    }
    // The normalisers' statistics learn from the clean observations, attacked or not.
    torch::Tensor features = policy->prepare(env_.observations().to(device), /*update_statistics=*/true);
    if (attack.perturb && attack.envs > 0) {
      const int64_t k = std::min(attack.envs, n);
      // A new tensor, not a write into `features`: it may view the vector env's own buffer.
      features = torch::cat({attack.perturb(features.narrow(0, 0, k)), features.narrow(0, k, n - k)});
    }
    const auto decision = policy->act(features, /*deterministic=*/false, generator);
    buffer.add_decision(features.cpu(), decision.action.cpu(), decision.log_prob.cpu(), decision.value.cpu());
    const auto step_start = Clock::now();
    env_.step(decision.action);
    env_seconds += std::chrono::duration<double>(Clock::now() - step_start).count();
    env_steps_ += n;

    const torch::Tensor rewards = env_.rewards();
    const torch::Tensor terminated = env_.terminated();
    const torch::Tensor truncated = env_.truncated();
    const torch::Tensor ended = (terminated + truncated).clamp_max(1).to(torch::kFloat32);
    // Reward normalisation divides by the spread of the discounted return (SB3's VecNormalize).
    discounted_returns_ = discounted_returns_ * gamma_ + rewards;
    const torch::Tensor scaled = policy->scale_rewards(rewards.to(device), discounted_returns_.to(device), true).cpu();
    discounted_returns_ = discounted_returns_ * (1 - ended);
    torch::Tensor bootstrap = no_bootstrap_;
    if (truncated.any().item<bool>()) {
      // Not the end of the task, only of the time allowed: credit the value of the final state.
      const torch::Tensor final_features = policy->prepare(env_.final_observations().to(device), false);
      const torch::Tensor final_values = policy->value(final_features).cpu();
      bootstrap = gamma_ * final_values * truncated.to(torch::kFloat32);
    }
    buffer.add_outcome(scaled, ended, bootstrap);
    for (int64_t i = 0; i < n; ++i) {
      if (venv_.terminated()[i] || venv_.truncated()[i]) {
        finished_.push_back({venv_.episode_returns()[i], venv_.episode_lengths()[i]});
      }
    }
  }
  const torch::Tensor last_values = policy->value(policy->prepare(env_.observations().to(device), false)).cpu();
  buffer.compute_advantages(last_values, gamma_, gae_lambda);
  env_seconds_ += env_seconds;
  policy_seconds_ += std::chrono::duration<double>(Clock::now() - collect_start).count() - env_seconds;
}

std::vector<EpisodeSummary> RolloutCollector::take_finished_episodes() {
  std::vector<EpisodeSummary> out;
  out.swap(finished_);
  return out;
}

}  // namespace rlforge
