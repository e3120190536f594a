#include "rlforge/trainers/rollout_collector.h"

namespace rlforge {

torch::Dtype torch_dtype(DType dtype) {
  switch (dtype) {
    case DType::Float32: return torch::kFloat32;
    case DType::UInt8: return torch::kUInt8;
    case DType::Int64: return torch::kInt64;
  }
  return torch::kFloat32;
}

RolloutBufferConfig RolloutCollector::buffer_config(const VectorEnv& venv, int64_t n_steps) {
  const EnvSpec& spec = venv.spec();
  RolloutBufferConfig c;
  c.n_steps = n_steps;
  c.num_envs = venv.num_envs();
  // The buffer keeps what the policy saw: flattened float features (ActorCritic::prepare).
  c.observation_shape = {static_cast<int64_t>(spec.observation_space.size())};
  c.observation_dtype = torch::kFloat32;
  c.action_shape = spec.action_space.shape();
  c.action_dtype = torch_dtype(spec.action_space.dtype());
  return c;
}

RolloutCollector::RolloutCollector(VectorEnv& venv, double gamma)
    : venv_(venv), gamma_(gamma), discounted_returns_(torch::zeros({venv.num_envs()})) {
  const EnvSpec& spec = venv.spec();
  batch_shape_ = {venv.num_envs()};
  batch_shape_.insert(batch_shape_.end(), spec.observation_space.shape().begin(),
                      spec.observation_space.shape().end());
  const Space& a = spec.action_space;
  if (a.is_box()) {
    low_ = torch::tensor(a.low());
    high_ = torch::tensor(a.high());
  }
}

torch::Tensor RolloutCollector::observations() const {
  // A view of the vector env's buffer, valid until its next step.
  return torch::from_blob(const_cast<void*>(venv_.observations()), batch_shape_,
                          torch_dtype(venv_.spec().observation_space.dtype()));
}

torch::Tensor RolloutCollector::final_observations() const {
  return torch::from_blob(const_cast<void*>(venv_.final_observations()), batch_shape_,
                          torch_dtype(venv_.spec().observation_space.dtype()));
}

void RolloutCollector::step_env(const torch::Tensor& actions) {
  const int64_t n = venv_.num_envs();
  if (venv_.spec().action_space.is_discrete()) {
    const torch::Tensor a = actions.to(torch::kCPU, torch::kInt64).contiguous();
    venv_.step(ActionRef{a.data_ptr<int64_t>(), DType::Int64, static_cast<std::size_t>(n)});
  } else {
    // Stored unclipped for the update; clipped to the space for the env.
    const torch::Tensor a = torch::max(torch::min(actions.to(torch::kCPU, torch::kFloat32), high_), low_).contiguous();
    venv_.step(ActionRef{a.data_ptr<float>(), DType::Float32, static_cast<std::size_t>(a.numel())});
  }
  env_steps_ += n;
}

void RolloutCollector::collect(ActorCritic& policy, torch::Generator& generator,
                               RolloutBuffer& buffer, double gae_lambda) {
  torch::NoGradGuard no_grad;
  const int64_t n = venv_.num_envs();
  const auto device = policy->parameters().front().device();
  buffer.clear();
  while (!buffer.full()) {
    const torch::Tensor features = policy->prepare(observations().to(device), /*update_statistics=*/true);
    const auto decision = policy->act(features, /*deterministic=*/false, generator);
    buffer.add_decision(features.cpu(), decision.action.cpu(), decision.log_prob.cpu(), decision.value.cpu());
    step_env(decision.action);

    const torch::Tensor rewards = torch::from_blob(const_cast<float*>(venv_.rewards()), {n}, torch::kFloat32);
    const torch::Tensor terminated = torch::from_blob(const_cast<uint8_t*>(venv_.terminated()), {n}, torch::kUInt8);
    const torch::Tensor truncated = torch::from_blob(const_cast<uint8_t*>(venv_.truncated()), {n}, torch::kUInt8);
    const torch::Tensor ended = (terminated + truncated).clamp_max(1).to(torch::kFloat32);
    // Reward normalisation divides by the spread of the discounted return (SB3's VecNormalize).
    discounted_returns_ = discounted_returns_ * gamma_ + rewards;
    const torch::Tensor scaled = policy->scale_rewards(rewards.to(device), discounted_returns_.to(device), true).cpu();
    discounted_returns_ = discounted_returns_ * (1 - ended);
    torch::Tensor bootstrap = torch::zeros({n});
    if (truncated.any().item<bool>()) {
      // Not the end of the task, only of the time allowed: credit the value of the final state.
      const torch::Tensor final_features = policy->prepare(final_observations().to(device), false);
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
  const torch::Tensor last_values = policy->value(policy->prepare(observations().to(device), false)).cpu();
  buffer.compute_advantages(last_values, gamma_, gae_lambda);
}

std::vector<EpisodeSummary> RolloutCollector::take_finished_episodes() {
  std::vector<EpisodeSummary> out;
  out.swap(finished_);
  return out;
}

}  // namespace rlforge
