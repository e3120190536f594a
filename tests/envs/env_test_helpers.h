#pragma once
// Helpers shared by the envs tests.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/envs/numpy_random.h"

namespace rlforge::testing {

// Runs `f` and returns the message of the EnvError it throws ("" when nothing was thrown).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const EnvError& e) {
    return e.what();
  }
  return "";
}

// Episode statistics of a policy, to compare with the ones Gymnasium publishes.
struct EpisodeStats {
  double mean_return = 0, std_return = 0, min_return = 0, max_return = 0;
  double mean_length = 0, std_length = 0;
  int episodes = 0;
  int ended_with_bonus = 0;  // terminated with a last reward of +100 (LunarLander at rest)
};

// Reads a float32 observation and writes the action: floats for Box, the index in action[0]
// for Discrete.
using ObservationPolicy = std::function<void(const std::vector<float>& obs, std::vector<float>& action)>;

// Plays `episodes` episodes of `env`, reset with seeds first_seed, first_seed + 1, ...;
// `begin_episode` gives the policy for each episode.
inline EpisodeStats play_episodes(Env& env, int episodes, uint64_t first_seed,
                                  const std::function<ObservationPolicy()>& begin_episode) {
  const Space& actions = env.spec().action_space;
  std::vector<float> obs(env.spec().observation_space.size()), action(actions.is_box() ? actions.size() : 1, 0.0f);
  std::vector<double> returns, lengths;
  EpisodeStats s;
  for (int e = 0; e < episodes; ++e) {
    env.reset(first_seed + static_cast<uint64_t>(e), obs.data());
    const ObservationPolicy policy = begin_episode();
    double total = 0;
    int length = 0;
    StepResult r;
    do {
      policy(obs, action);
      r = actions.is_box() ? env.step(action, obs.data()) : env.step(static_cast<int64_t>(action[0]), obs.data());
      total += r.reward;
      ++length;
    } while (!r.terminated && !r.truncated);
    s.ended_with_bonus += r.terminated && r.reward == 100.0;
    returns.push_back(total);
    lengths.push_back(length);
  }
  auto mean_std = [](const std::vector<double>& x, double& mean, double& std) {
    mean = 0;
    for (double v : x) mean += v / static_cast<double>(x.size());
    std = 0;
    for (double v : x) std += (v - mean) * (v - mean) / static_cast<double>(x.size() - 1);
    std = std::sqrt(std);
  };
  s.episodes = episodes;
  mean_std(returns, s.mean_return, s.std_return);
  mean_std(lengths, s.mean_length, s.std_length);
  s.min_return = *std::min_element(returns.begin(), returns.end());
  s.max_return = *std::max_element(returns.begin(), returns.end());
  return s;
}

// Everything a seeded rollout produced, byte for byte: the observations (the first of each
// episode included), the rewards and the flags.
struct Trajectory {
  std::vector<unsigned char> observations;
  std::vector<double> rewards;
  std::vector<unsigned char> flags;  // terminated | truncated << 1, per step
};

// `steps` steps of actions drawn from the action space by a generator of its own (seeded
// `action_seed`), reset with `seed` first and without a seed after an episode ends.
inline Trajectory seeded_rollout(Env& env, uint64_t seed, int steps, uint64_t action_seed = 1) {
  const Space& actions = env.spec().action_space;
  const std::size_t obs_bytes = env.spec().observation_space.byte_size();
  std::vector<unsigned char> obs(obs_bytes);
  std::vector<int64_t> discrete(1);
  std::vector<float> box(actions.is_box() ? actions.size() : 0);
  NumpyGenerator action_rng(action_seed);
  Trajectory t;
  auto keep = [&] { t.observations.insert(t.observations.end(), obs.begin(), obs.end()); };
  env.reset(seed, obs.data());
  keep();
  for (int i = 0; i < steps; ++i) {
    StepResult r;
    if (actions.is_box()) {
      actions.sample(action_rng, box.data());
      r = env.step(box, obs.data());
    } else {
      actions.sample(action_rng, discrete.data());
      r = env.step(discrete[0], obs.data());
    }
    keep();
    t.rewards.push_back(r.reward);
    t.flags.push_back(static_cast<unsigned char>(r.terminated | r.truncated << 1));
    if (r.terminated || r.truncated) {
      env.reset(std::nullopt, obs.data());
      keep();
    }
  }
  return t;
}

// Where two vectors first differ (the shorter one's size when one is a prefix of the other), or
// -1 when they are equal: a failure message that points at the difference, not at two long lists.
template <class T>
long first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return static_cast<long>(i);
  }
  return a.size() == b.size() ? -1 : static_cast<long>(n);
}

// Three standard errors of the difference between our mean return and a reference mean.
inline double three_standard_errors(const EpisodeStats& ours, double reference_std, int reference_episodes) {
  return 3 * std::sqrt(ours.std_return * ours.std_return / ours.episodes +
                       reference_std * reference_std / reference_episodes);
}

}  // namespace rlforge::testing
