#pragma once
// What behaviour a recorded dataset holds, summarised by clusters of its states (`rlforge dataset
// cluster`): k-means on the observations (standardised vectors, or frames averaged down to a small
// grey image), then per cluster its share of the steps, the return still to come from its states,
// the actions taken in them and the recorded state nearest its centre.

#include <cstdint>
#include <string>
#include <vector>

namespace rlforge {

class EpisodeDataset;

// The recorded observations' element names: the env's own when this program knows the env and its
// observations are the recorded ones, else "obs[i]".
std::vector<std::string> recorded_observation_names(const EpisodeDataset& dataset);

struct DatasetClusterSettings {
  int64_t k = 8;
  uint64_t seed = 0;
  // k-means is fitted on at most this many steps (a seeded sample); every step is then assigned.
  int64_t max_fit_steps = 200'000;
  // Frames are averaged down to at most this many pixels a side and to grey before clustering.
  int64_t frame_size = 24;
  // Fitted steps the silhouette is computed on (its cost grows with their square).
  int64_t silhouette_steps = 2000;
};

struct DatasetCluster {
  int64_t steps = 0;
  double share = 0;        // of all steps
  int64_t episodes = 0;    // episodes with at least one step here
  double mean_return_to_go = 0, std_return_to_go = 0;  // undiscounted rewards from the step to the episode's end
  double mean_reward = 0;
  std::vector<double> action_shares;  // Discrete actions: the share of each action
  std::vector<double> mean_action;    // Box actions: each element's mean
  std::vector<double> centre;         // vector observations: the centre in their own units
  int64_t representative_step = 0;    // the recorded step nearest the centre
  int64_t representative_episode = 0, representative_step_in_episode = 0;
  std::string frame_file;  // image observations: the representative frame's PNG (in the output directory)
};

struct DatasetClusters {
  std::string dataset, env_id, observation_space, action_space;
  bool frames = false;
  std::vector<std::string> element_names;  // vector observations
  int64_t k = 0, steps = 0, episodes = 0, fit_steps = 0, iterations = 0;
  uint64_t seed = 0;
  double inertia = 0;     // mean squared distance to the nearest centre, standardised units
  double silhouette = 0;  // of a sample of the fitted steps
  std::vector<DatasetCluster> clusters;
};

// Clusters the dataset at `dataset_dir`; representative frames are written into `out_dir` (which
// must exist) when the observations are images. Throws DataError for a damaged dataset and
// std::invalid_argument for settings that cannot work (k above the number of steps).
DatasetClusters cluster_dataset(const std::string& dataset_dir, const DatasetClusterSettings& settings,
                                const std::string& out_dir);

// clusters.yaml: every figure above, clusters in order.
std::string dataset_clusters_yaml(const DatasetClusters& result);

}  // namespace rlforge
