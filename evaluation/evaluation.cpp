#include "rlforge/evaluation/evaluation.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "rlforge/evaluation/env_tensors.h"

#include <algorithm>
#include <memory>

namespace rlforge {

EvaluationResult evaluate_policy(ActorCritic& policy, const VectorEnvConfig& config,
                                 int64_t episodes, uint64_t seed, bool deterministic,
                                 torch::Generator& generator) {
  const auto device = policy->parameters().front().device();
  return evaluate(
      [&](const torch::Tensor& observations) {
        return policy->act(policy->prepare(observations.to(device), false), deterministic, generator).action;
      },
      config, episodes, seed);
}

ExplorationScope::ExplorationScope(Agent& agent, bool deterministic, int64_t batch, torch::Generator& generator)
    : agent_(agent), active_(!deterministic) {
  if (!active_) return;
  saved_ = agent_.exploration_state();
  agent_.reset_exploration(batch, generator);
}

ExplorationScope::~ExplorationScope() {
  if (active_) agent_.restore_exploration_state(saved_);
}

EvaluationResult evaluate_agent(Agent& agent, const VectorEnvConfig& config, int64_t episodes, uint64_t seed,
                                bool deterministic, torch::Generator& generator) {
  const ExplorationScope own_noise(agent, deterministic, std::min<int64_t>(episodes, config.num_envs), generator);
  return evaluate([&](const torch::Tensor& observations) { return agent.act(observations, deterministic, generator); },
                  config, episodes, seed);
}

EpisodeOutcomes run_episodes(const BatchPolicy& policy, const VectorEnvConfig& config, int64_t episodes,
                             uint64_t seed, const ObservationHook& hook) {
  if (episodes <= 0) throw std::invalid_argument("evaluation needs episodes > 0");
  torch::NoGradGuard no_grad;
  VectorEnvConfig c = config;
  c.num_envs = static_cast<int>(std::min<int64_t>(episodes, config.num_envs));
  VectorEnv venv(c);
  venv.reset(seed);
  const int64_t n = venv.num_envs();
  EnvTensors env(venv);

  // Env k runs episodes k, k + n, ... so that exactly `episodes` are counted.
  EpisodeOutcomes out;
  out.returns.assign(static_cast<std::size_t>(episodes), 0.0);
  out.lengths.assign(static_cast<std::size_t>(episodes), 0);
  std::vector<int64_t> episode_of(static_cast<std::size_t>(n));
  for (int64_t k = 0; k < n; ++k) episode_of[static_cast<std::size_t>(k)] = k;
  int64_t running = n;
  while (running > 0) {
    const torch::Tensor observations = env.observations();
    if (hook) {
      // Written through an accessor: indexing a tensor element by element is one op per env per step.
      torch::Tensor counted = torch::empty({n}, torch::kBool);
      auto mark = counted.accessor<bool, 1>();
      for (int64_t k = 0; k < n; ++k) mark[k] = episode_of[static_cast<std::size_t>(k)] < episodes;
      hook(observations, counted);
    }
    env.step(policy(observations));
    for (int64_t k = 0; k < n; ++k) {
      const auto slot = static_cast<std::size_t>(k);
      if (!(venv.terminated()[k] || venv.truncated()[k]) || episode_of[slot] >= episodes) continue;
      const auto e = static_cast<std::size_t>(episode_of[slot]);
      out.returns[e] = venv.episode_returns()[k];
      out.lengths[e] = venv.episode_lengths()[k];
      episode_of[slot] += n;
      if (episode_of[slot] >= episodes) --running;
    }
  }
  return out;
}

EvaluationResult evaluate(const BatchPolicy& policy, const VectorEnvConfig& config, int64_t episodes, uint64_t seed) {
  const EpisodeOutcomes outcomes = run_episodes(policy, config, episodes, seed);
  EvaluationResult r;
  r.episodes = static_cast<int64_t>(outcomes.returns.size());
  for (std::size_t i = 0; i < outcomes.returns.size(); ++i) {
    r.mean_return += outcomes.returns[i];
    r.mean_length += static_cast<double>(outcomes.lengths[i]);
  }
  r.mean_return /= static_cast<double>(r.episodes);
  r.mean_length /= static_cast<double>(r.episodes);
  for (double v : outcomes.returns) r.std_return += (v - r.mean_return) * (v - r.mean_return);
  r.std_return = std::sqrt(r.std_return / static_cast<double>(r.episodes));
  return r;
}

ActionChooser policy_actions(ActorCritic& policy, const EnvSpec& spec, bool deterministic,
                             torch::Generator& generator) {
  const auto device = policy->parameters().front().device();
  return batch_policy_actions(
      [&policy, &generator, deterministic, device](const torch::Tensor& observations) {
        return policy->act(policy->prepare(observations.to(device), false), deterministic, generator).action;
      },
      spec);
}

ActionChooser agent_actions(Agent& agent, const EnvSpec& spec, bool deterministic, torch::Generator& generator) {
  return batch_policy_actions(
      [&agent, &generator, deterministic](const torch::Tensor& observations) {
        return agent.act(observations, deterministic, generator);
      },
      spec);
}

ActionChooser batch_policy_actions(BatchPolicy policy, const EnvSpec& spec) {
  struct State {
    std::vector<int64_t> shape;
    torch::Dtype dtype;
    bool discrete;
    torch::Tensor low, high;
    int64_t discrete_action = 0;
    std::vector<float> box_action;
  };
  auto state = std::make_shared<State>();
  state->shape = {1};
  state->shape.insert(state->shape.end(), spec.observation_space.shape().begin(), spec.observation_space.shape().end());
  state->dtype = torch_dtype(spec.observation_space.dtype());
  state->discrete = spec.action_space.is_discrete();
  if (!state->discrete) {
    state->low = torch::tensor(spec.action_space.low());
    state->high = torch::tensor(spec.action_space.high());
    state->box_action.resize(spec.action_space.size());
  }
  return [state, policy = std::move(policy)](const void* observation) {
    torch::NoGradGuard no_grad;
    const torch::Tensor obs = torch::from_blob(const_cast<void*>(observation), state->shape, state->dtype);
    const torch::Tensor action = policy(obs).to(torch::kCPU);
    if (state->discrete) {
      state->discrete_action = action.to(torch::kInt64).item<int64_t>();
      return ActionRef::discrete(state->discrete_action);
    }
    const torch::Tensor clipped = torch::max(torch::min(action.reshape({-1}).to(torch::kFloat32), state->high), state->low).contiguous();
    std::copy_n(clipped.data_ptr<float>(), state->box_action.size(), state->box_action.data());
    return ActionRef::box(state->box_action);
  };
}

}  // namespace rlforge
