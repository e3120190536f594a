#pragma once
// The replay buffer beside last.pt, shared by the off-policy algorithms (DQN, SAC/TD3/TQC): an
// exact --resume needs the buffer as it was, so it is written with every checkpoint when the
// config allows, and on resume either loaded (when it belongs to that checkpoint) or refilled.

#include <yaml-cpp/yaml.h>

#include <ostream>
#include <string>

#include "rlforge/replay/replay_buffer.h"

namespace rlforge {

struct ExperimentConfig;
struct EnvSpec;

// Whether save_replay_buffer ("true", "false", "auto": at most 256 MiB) asks to save a buffer of
// `bytes`.
bool replay_saved_with_checkpoints(const std::string& mode, int64_t bytes);

// Writes checkpoint_dir/replay.bin when `save` (the one it replaces kept as replay.prev.bin), and
// records in `state` what resume needs. The buffer goes first: a run killed between the two files
// leaves a replay.bin newer than last.pt, and restore_replay takes replay.prev.bin instead.
void save_replay(const ReplayBuffer& buffer, bool save, const std::string& checkpoint_dir, YAML::Node& state);

// Loads the buffer `state` describes (replay.bin, else replay.prev.bin). When it cannot (not
// saved, missing, damaged, from another step), empties the buffer, observes the env's current observations, logs why, and returns how
// many transitions to collect before learning continues (min(capacity, max(learning_starts,
// batch_size))); returns 0 after an exact restore.
int64_t restore_replay(ReplayBuffer& buffer, const VectorEnv& venv, const YAML::Node& state,
                       const std::string& checkpoint_dir, int64_t learning_starts, int64_t batch_size,
                       std::ostream& log);

}  // namespace rlforge
