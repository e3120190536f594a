#include "rlforge/trainers/evaluation.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "rlforge/trainers/env_tensors.h"

namespace rlforge {

EvaluationResult evaluate_policy(ActorCritic& policy, const VectorEnvConfig& config,
                                 int64_t episodes, uint64_t seed, bool deterministic,
                                 torch::Generator& generator) {
  if (episodes <= 0) throw std::invalid_argument("evaluation needs episodes > 0");
  torch::NoGradGuard no_grad;
  VectorEnvConfig c = config;
  c.num_envs = static_cast<int>(std::min<int64_t>(episodes, config.num_envs));
  VectorEnv venv(c);
  venv.reset(seed);
  const int64_t n = venv.num_envs();
  EnvTensors env(venv);
  const auto device = policy->parameters().front().device();

  // Env i runs episodes i, i + n, ... so that exactly `episodes` are counted.
  std::vector<double> returns;
  std::vector<int64_t> lengths;
  int64_t running = std::min<int64_t>(episodes, n);
  std::vector<bool> counting(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) counting[static_cast<std::size_t>(i)] = i < episodes;
  int64_t next_episode = n;
  while (running > 0) {
    const auto decision = policy->act(policy->prepare(env.observations().to(device), false), deterministic, generator);
    env.step(decision.action);
    for (int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      if (!(venv.terminated()[i] || venv.truncated()[i])) continue;
      if (counting[k]) {
        returns.push_back(venv.episode_returns()[i]);
        lengths.push_back(venv.episode_lengths()[i]);
        --running;
      }
      counting[k] = next_episode < episodes;
      if (counting[k]) {
        ++next_episode;
        ++running;
      }
    }
  }
  EvaluationResult r;
  r.episodes = static_cast<int64_t>(returns.size());
  for (std::size_t i = 0; i < returns.size(); ++i) {
    r.mean_return += returns[i];
    r.mean_length += static_cast<double>(lengths[i]);
  }
  r.mean_return /= static_cast<double>(r.episodes);
  r.mean_length /= static_cast<double>(r.episodes);
  for (double v : returns) r.std_return += (v - r.mean_return) * (v - r.mean_return);
  r.std_return = std::sqrt(r.std_return / static_cast<double>(r.episodes));
  return r;
}

}  // namespace rlforge
