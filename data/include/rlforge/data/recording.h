#pragma once
// Records whole episodes of one env into an episode dataset: `rlforge dataset record`, and any
// program that wants a dataset from a policy of its own.

#include <cstdint>
#include <functional>
#include <string>

#include "rlforge/data/episode_dataset.h"
#include "rlforge/envs/episode_player.h"

namespace rlforge {

struct DatasetRecordingSettings {
  int64_t min_steps = 1;  // whole episodes are recorded until at least this many steps
  uint64_t seed = 0;      // of the first reset; later episodes continue the env's generator
  std::string policy_description;  // stored in the dataset ("random actions, seed 0", a run ...)
  // Polled after every step; when it returns true recording stops with a DataError and nothing is
  // written (Ctrl-C in `rlforge dataset record`).
  std::function<bool()> should_stop;
};

struct DatasetRecordingResult {
  int64_t steps = 0, episodes = 0;
  ReturnStatistics returns;
  std::string directory;
};

// Plays episodes with `player` (no autoreset, the spec's episode limit; truncated episodes are
// marked so) and `choose`, and publishes the dataset at `out_dir` (EpisodeDatasetWriter's rules:
// a new or empty directory; nothing is left there on failure).
DatasetRecordingResult record_dataset(EpisodePlayer& player, const ActionChooser& choose,
                                      const std::string& out_dir,
                                      const DatasetRecordingSettings& settings);

}  // namespace rlforge
