#pragma once
// The data a run learning from data trains, validates and tests on (a table, or recorded
// episodes read in batches from their memory-mapped file), and the model it trains.

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/agents/supervised.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/trainers/config.h"

namespace rlforge {

class Learner;

// Rows of a minibatch, on the model's device.
struct Batch {
  torch::Tensor inputs;   // [B, ...] as the model takes them (an env's raw observations when cloning)
  torch::Tensor labels;   // int64 [B]: class indices (classification, cloning Discrete actions)
  torch::Tensor targets;  // float [B, d]: real-valued targets (regression, cloning Box actions,
                          // next obs - obs, the observations to reconstruct)
  torch::Tensor next_inputs;  // the observations after the steps (dynamics tasks)
  torch::Tensor actions;      // float [B, d] as recorded (forward dynamics)
};

struct SupervisedData {
  // Exactly one of: a table held in memory, or recorded episodes (rows are global step indices).
  torch::Tensor table_inputs;   // float [rows, features]
  torch::Tensor table_labels;   // int64 [rows] (classification)
  torch::Tensor table_targets;  // float [rows, 1] (regression)
  std::shared_ptr<EpisodeDataset> episodes;

  int64_t input_size = 0;   // features, or observation elements
  std::vector<std::string> feature_names;  // a table's columns (empty for recorded episodes)
  int64_t classes = 0;      // > 0: labels; 0: real-valued targets of `target_size` values
  int64_t target_size = 0;
  std::vector<std::string> class_names;
  std::string loss_name;
  std::string task;  // config.supervised.task

  // Seeded splits (int64 row indices); an episode's steps are never on two sides.
  struct Splits {
    torch::Tensor train, validation, test;
  } split;

  // The rows `rows` (int64 indices) as a batch on `device`.
  Batch batch(const torch::Tensor& rows, torch::Device device) const;
};

// Reads or generates config.data and splits it (a DataError or ConfigError naming the file or key
// when it does not fit the task).
SupervisedData load_supervised_data(const ExperimentConfig& config);

// The model config.supervised asks for: behaviour cloning's actor-critic for `spec`, or an MLP
// predictor from `inputs` to `outputs` values (classes, or targets).
std::unique_ptr<SupervisedModel> make_supervised_model(const ExperimentConfig& config, const EnvSpec& spec,
                                                       int64_t inputs, int64_t outputs, uint64_t seed,
                                                       torch::Device device);

class Distributed;
// `distributed`: the clients of federated averaging (agent.federated); null or inactive: one process.
std::unique_ptr<Learner> make_supervised_learner(const ExperimentConfig& config, torch::Device device,
                                                 Distributed* distributed = nullptr);

// agent.algo: unsupervised (k-means, a Gaussian mixture, an autoencoder) on config.data.
std::unique_ptr<Learner> make_unsupervised_learner(const ExperimentConfig& config, torch::Device device);


}  // namespace rlforge
