#include "throughput.h"

#include <chrono>
#include <vector>

namespace rlforge::cli {

ThroughputResult measure_throughput(const VectorEnvConfig& config, int64_t env_steps, uint64_t seed) {
  if (env_steps <= 0) throw EnvError("bench env: --steps must be positive");
  VectorEnv venv(config);
  const Space& space = venv.spec().action_space;
  const int n = venv.num_envs();
  std::vector<unsigned char> actions(space.byte_size() * static_cast<std::size_t>(n));
  const ActionRef batch{actions.data(), space.dtype(), space.size() * static_cast<std::size_t>(n)};
  NumpyGenerator rng(seed ^ 0x5eedULL);
  auto one_step = [&] {
    space.sample_batch(rng, actions.data(), static_cast<std::size_t>(n));
    venv.step(batch);
  };

  venv.reset(seed);
  const int64_t iterations = (env_steps + n - 1) / n;
  const int64_t warmup = std::min<int64_t>(iterations / 10 + 1, 1000);
  for (int64_t i = 0; i < warmup; ++i) one_step();

  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iterations; ++i) one_step();
  const auto stop = std::chrono::steady_clock::now();

  ThroughputResult r;
  r.env_steps = iterations * n;
  r.seconds = std::chrono::duration<double>(stop - start).count();
  r.steps_per_second = static_cast<double>(r.env_steps) / r.seconds;
  r.threads = venv.threads();
  return r;
}

}  // namespace rlforge::cli
