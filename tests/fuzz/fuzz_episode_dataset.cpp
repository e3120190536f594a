// EpisodeDataset::open on any bytes as episodes.bin: a dataset whose every episode and step can
// be read, or one DataError. Anything else is a finding. Each input is read twice: as it is, and
// with its header and payload CRC-32 put right, so that mutations also reach the descriptions,
// the section table and the step data behind the checksums (damage is caught by the checksums;
// this is what a file that is whole but wrong does).
#include <cstdint>
#include <string>
#include <vector>

#include "../checksum_repair.h"
#include "fuzz_input.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/data/errors.h"

namespace {

void read_dataset(const uint8_t* data, size_t size) {
  const std::string path = rlforge::fuzz::write_input_file(data, size, "_episodes.bin");
  try {
    const rlforge::EpisodeDataset dataset = rlforge::EpisodeDataset::open(path);
    // An accepted file must be readable everywhere its table says.
    std::vector<unsigned char> observation(dataset.observation_space().byte_size());
    std::vector<float> action(dataset.action_space().size());
    float reward = 0;
    for (int64_t step = 0; step < dataset.num_steps(); ++step) {
      dataset.gather_observations(&step, 1, observation.data());
      dataset.gather_next_observations(&step, 1, observation.data());
      dataset.gather_actions(&step, 1, action.data());
      dataset.gather_rewards(&step, 1, &reward);
    }
    for (int64_t i = 0; i < dataset.num_episodes(); ++i) (void)dataset.episode(i);
  } catch (const rlforge::DataError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  read_dataset(data, size);
  std::string fixed(reinterpret_cast<const char*>(data), size);
  if (rlforge::testing::put_dataset_crcs_right(fixed)) read_dataset(reinterpret_cast<const uint8_t*>(fixed.data()), fixed.size());
  return 0;
}
