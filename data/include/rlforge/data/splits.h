#pragma once
// Seeded train / validation / test splits and k-fold cross-validation over groups: for an episode
// dataset a group is an episode (so no episode is on two sides), for a table a row.

#include <cstdint>
#include <vector>

#include "rlforge/data/episode_dataset.h"

namespace rlforge {

struct Split {
  std::vector<int64_t> train, validation, test;  // group indices, each list sorted
};

// Shuffles 0..num_groups-1 with `seed` and cuts it: round(test_fraction * num_groups) groups for
// test, round(validation_fraction * num_groups) for validation (at least one each when its
// fraction is above zero), the rest for training. Fractions must be in [0, 1) with a sum below 1,
// and at least one group must remain for training; DataError otherwise.
Split split_groups(int64_t num_groups, double validation_fraction, double test_fraction,
                   uint64_t seed);

// k folds of a seeded shuffle (sizes differ by at most one): split i validates on fold i and
// trains on the others; test is empty. Needs 2 <= k <= num_groups.
std::vector<Split> k_fold(int64_t num_groups, int k, uint64_t seed);

// The global step indices of `episodes`, episode by episode in the order given.
std::vector<int64_t> steps_of_episodes(const EpisodeDataset& dataset,
                                       const std::vector<int64_t>& episodes);

}  // namespace rlforge
