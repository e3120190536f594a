#pragma once
// A trained agent loaded from a run directory or a checkpoint file, with the config it was
// trained with: what `eval`, `record` and `stress` act with.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "rlforge/agents/agent.h"
#include "rlforge/trainers/config.h"
#include "rlforge/trainers/trainer.h"

namespace rlforge::cli {

struct LoadedAgent {
  std::string checkpoint;
  Checkpoint info;
  ExperimentConfig config;
  uint64_t seed = 0;             // of the agent's generator and of the evaluation envs
  std::unique_ptr<Agent> agent;  // PPO's, DQN's or an off-policy learner's, as the run's config says
};

// A run directory's best checkpoint (else its last), or the checkpoint file itself.
std::string checkpoint_of(const std::string& target);
// Without a seed, the run's held-out test seeds (rlforge/envs/seeds.h).
LoadedAgent load_agent(const std::string& target, std::optional<uint64_t> seed);
// A predictor trained on a table (export_commands.cpp): its widths read from the checkpoint.
LoadedAgent load_table_model(const std::string& checkpoint, const Checkpoint& info, const ExperimentConfig& config);

}  // namespace rlforge::cli
