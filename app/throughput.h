#pragma once
// Env throughput measurement shared by `rlforge bench env` and ./run.sh.

#include <cstdint>

#include "rlforge/envs/vector_env.h"

namespace rlforge::cli {

struct ThroughputResult {
  int64_t env_steps = 0;   // total env steps taken (num_envs x vector steps)
  double seconds = 0.0;
  double steps_per_second = 0.0;
  int threads = 1;  // threads the vector env used (at most num_envs)
};

// Steps a vector env built from `config` with uniformly random actions (drawn inside the timed
// loop, as Gymnasium's `action_space.sample()` is in the reference figures) for at least
// `env_steps` env steps, after a short warm-up.
ThroughputResult measure_throughput(const VectorEnvConfig& config, int64_t env_steps, uint64_t seed);

}  // namespace rlforge::cli
