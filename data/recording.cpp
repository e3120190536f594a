#include "rlforge/data/recording.h"

#include <cstring>
#include <vector>

namespace rlforge {

DatasetRecordingResult record_dataset(EpisodePlayer& player, const ActionChooser& choose,
                                      const std::string& out_dir,
                                      const DatasetRecordingSettings& settings) {
  if (settings.min_steps < 1)
    throw DataError("record_dataset: min_steps must be at least 1, got " +
                    std::to_string(settings.min_steps));
  const EnvSpec& spec = player.spec();
  EpisodeDatasetWriter writer(out_dir, spec.id, spec.observation_space, spec.action_space,
                              settings.policy_description);
  // The player's observation is overwritten by the step; the writer wants the one before it.
  std::vector<unsigned char> before(spec.observation_space.byte_size());
  bool first = true;
  while (writer.num_steps() < settings.min_steps) {
    player.reset(first ? std::optional<uint64_t>(settings.seed) : std::nullopt);
    first = false;
    while (!player.done()) {
      std::memcpy(before.data(), player.observation(), before.size());
      const ActionRef action = choose(before.data());
      const StepResult r = player.step(action);
      writer.add_step(before.data(), action, r.reward);
      if (settings.should_stop && settings.should_stop()) {
        throw DataError(out_dir + ": recording interrupted after " +
                        std::to_string(writer.num_steps()) + " steps; nothing was written");
      }
    }
    writer.end_episode(player.observation(), player.terminated());
  }
  writer.finish();
  const EpisodeDataset dataset = EpisodeDataset::open(writer.directory(), false);
  return {dataset.num_steps(), dataset.num_episodes(), return_statistics(dataset), out_dir};
}

}  // namespace rlforge
