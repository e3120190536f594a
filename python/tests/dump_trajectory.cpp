// Prints one env's trajectory for a seed and a fixed action sequence, through rlforge's C++
// registry, for python/tests/test_envs.py to compare with what the Python module returns.
//
//   rlforge_python_trajectory ID SEED STEPS [key=value ...]
//
// Lines: "reset OBS..." after each reset, "step REWARD TERMINATED TRUNCATED OBS..." after each
// step. The first reset uses SEED; when an episode ends the env is reset without a seed (its
// generator continues), as a Python loop calling env.reset() does. Observations print exactly
// (float32 as %.9g, uint8 as integers), rewards as %.17g.
//
// Action at step t (t counts every step, across episodes): Discrete(n): ((t*t + 3t + 1) % 97) % n;
// Box: element j is low + (high - low) * ((31t + 17j) % 101) / 100, in double, then float32.
// test_envs.py computes the same sequence.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "rlforge/envs/registry.h"

namespace {

void print_observation(const rlforge::Space& space, const std::vector<unsigned char>& obs) {
  for (std::size_t i = 0; i < space.size(); ++i) {
    switch (space.dtype()) {
      case rlforge::DType::Float32: std::printf(" %.9g", static_cast<double>(reinterpret_cast<const float*>(obs.data())[i])); break;
      case rlforge::DType::UInt8: std::printf(" %u", static_cast<unsigned>(obs[i])); break;
      case rlforge::DType::Int64: std::printf(" %lld", static_cast<long long>(reinterpret_cast<const int64_t*>(obs.data())[i])); break;
    }
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s ID SEED STEPS [key=value ...]\n", argv[0]);
    return 2;
  }
  try {
    rlforge::Options options;
    for (int i = 4; i < argc; ++i) {
      const auto [key, value] = rlforge::Options::parse_assignment(argv[i]);
      options.set(key, value);
    }
    std::unique_ptr<rlforge::Env> env = rlforge::make_env(argv[1], options);
    const rlforge::Space& obs_space = env->spec().observation_space;
    const rlforge::Space& action_space = env->spec().action_space;
    std::vector<unsigned char> obs(obs_space.byte_size());
    const long steps = std::strtol(argv[3], nullptr, 10);

    env->reset(std::strtoull(argv[2], nullptr, 10), obs.data());
    std::printf("reset");
    print_observation(obs_space, obs);
    std::vector<float> box(action_space.size());
    for (long t = 0; t < steps; ++t) {
      rlforge::StepResult r;
      if (action_space.is_discrete()) {
        r = env->step(static_cast<int64_t>(((t * t + 3 * t + 1) % 97) % action_space.n()), obs.data());
      } else {
        for (std::size_t j = 0; j < box.size(); ++j) {
          const double low = action_space.low()[j], high = action_space.high()[j];
          box[j] = static_cast<float>(low + (high - low) * static_cast<double>((31 * t + 17 * static_cast<long>(j)) % 101) / 100.0);
        }
        r = env->step(box, obs.data());
      }
      std::printf("step %.17g %d %d", r.reward, r.terminated ? 1 : 0, r.truncated ? 1 : 0);
      print_observation(obs_space, obs);
      if (r.terminated || r.truncated) {
        env->reset(std::nullopt, obs.data());
        std::printf("reset");
        print_observation(obs_space, obs);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
