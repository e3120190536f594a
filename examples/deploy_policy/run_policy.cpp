// Runs episodes of an env with a policy exported by `rlforge export`: observations from the env
// go straight to rlforge::Policy::act, and its action straight back to the env.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "rlforge/envs/registry.h"
#include "rlforge/inference/policy.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: run_policy POLICY.pt ENV_ID [episodes] [first seed]\n";
    return 2;
  }
  try {
    const rlforge::Policy policy = rlforge::Policy::load(argv[1]);
    auto env = rlforge::make_env(argv[2]);
    const rlforge::Space& space = env->spec().observation_space;
    if (space.shape() != policy.observation_shape()) {
      std::cerr << "run_policy: " << argv[2] << "'s observations are " << space.describe() << ", not what "
                << argv[1] << " takes\n";
      return 1;
    }
    const int episodes = argc > 3 ? std::atoi(argv[3]) : 5;
    const uint64_t first_seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 2'000'000;
    const int64_t limit = env->spec().max_episode_steps > 0 ? env->spec().max_episode_steps : 1000;
    std::vector<uint8_t> observation(space.byte_size());
    std::vector<uint8_t> action(policy.discrete() ? sizeof(int64_t) : policy.action_size() * sizeof(float));
    double total = 0;
    for (int e = 0; e < episodes; ++e) {
      env->reset(first_seed + static_cast<uint64_t>(e), observation.data());
      double episode_return = 0;
      for (int64_t t = 0; t < limit; ++t) {
        policy.act(observation.data(), action.data());
        const rlforge::ActionRef a{action.data(), policy.discrete() ? rlforge::DType::Int64 : rlforge::DType::Float32,
                                   static_cast<std::size_t>(policy.action_size())};
        const rlforge::StepResult r = env->step(a, observation.data());
        episode_return += r.reward;
        if (r.terminated) break;
      }
      std::cout << "episode " << e + 1 << ": return " << episode_return << "\n";
      total += episode_return;
    }
    std::cout << "mean_return: " << total / episodes << "\n";
  } catch (const std::exception& e) {
    std::cerr << "run_policy: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
