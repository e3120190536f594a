#pragma once
// One YAML file describes a run, in four sections: run, env, agent, trainer. Every key is
// validated; an unknown key or a bad value is a ConfigError naming the file, the line, the key
// path and what was expected. `--set a.b=value` overrides any key before validation.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "rlforge/agents/dqn.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/vector_env.h"

namespace rlforge {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunSection {
  std::string name;          // default: the config file's stem
  uint64_t seed = 0;
  std::string device = "cpu";  // cpu | cuda | cuda:N | auto
  std::string out_dir = "runs";
  // Collectives of data-parallel runs (WORLD_SIZE > 1): gloo (CPU), or nccl with a CUDA device.
  std::string backend = "gloo";
};

struct TrainerSection {
  int64_t total_steps = 100'000;
  int64_t eval_every = 10'000;      // env steps between evaluations (0: only at the end)
  int64_t eval_episodes = 10;
  bool eval_deterministic = true;
  int64_t log_every = 5'000;        // env steps between progress lines
  // env steps between writes of checkpoints/last.pt (also written at the end and when stopped)
  int64_t checkpoint_every = 10'000;
  int torch_threads = 1;            // LibTorch intra-op threads
  // Data-parallel runs: how long a rank waits for the rendezvous or for another rank in a
  // collective before it fails with an error (a rank died or hangs); longer than evaluations.
  int64_t dist_timeout_seconds = 60;
  // env steps between recordings of one evaluation episode into videos/ (0: none)
  int64_t record_every = 0;
  int record_width = 0, record_height = 0;  // 0: the env's own window size
  double record_fps = 0;                    // 0: the env's own frame rate
};

struct ExperimentConfig {
  std::string source;  // the file it came from
  RunSection run;
  VectorEnvConfig env;
  std::string algo = "ppo";  // ppo | dqn: which of the two configs below applies
  PpoConfig ppo;
  DqnConfig dqn;
  // DQN: write the replay buffer (checkpoints/replay.bin) with every last.pt, so that --resume
  // is exact: "true", "false", or "auto" (when the buffer takes at most 256 MiB).
  std::string save_replay_buffer = "auto";
  TrainerSection trainer;
  YAML::Node resolved;  // every key with its value, defaults included
};

// Reads `path`, applies `overrides` ("a.b=value", the value read as YAML), validates.
ExperimentConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from text (tests); `source` names it in messages.
ExperimentConfig parse_config(const std::string& yaml_text, const std::string& source,
                              const std::vector<std::string>& overrides = {});

}  // namespace rlforge
