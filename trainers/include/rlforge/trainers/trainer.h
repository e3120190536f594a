#pragma once
// The training loop: a Learner iterates while callbacks (callback.h) log, evaluate, keep best.pt,
// record and decide when to stop; the loop itself writes last.pt for exact resume.
//
// Run directory: <out_dir>/<name>-<timestamp>/ with config.yaml (resolved), metrics.csv,
// eval.csv, checkpoints/last.pt and best.pt, summary.yaml, curve.png, TensorBoard events.

#include <torch/torch.h>

#include <atomic>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "rlforge/trainers/callback.h"
#include "rlforge/trainers/config.h"
#include "rlforge/evaluation/evaluation.h"

namespace rlforge {

// "cpu", "cuda", "cuda:N", "auto" -> a device; ConfigError when CUDA is asked for but absent.
torch::Device resolve_device(const std::string& name);

// A fresh run directory <out_dir>/<name>-<YYYYmmdd-HHMMSS>[-k].
std::string make_run_dir(const std::string& out_dir, const std::string& name);

class Trainer {
 public:
  // Progress lines go to `progress`.
  Trainer(ExperimentConfig config, std::string run_dir, std::ostream& progress);
  // Returns with `stopped` set when the run was stopped before total_steps.
  TrainResult run(const RunControl& control = {});

 private:
  bool checkpoint_due(const TrainingRun& run) const;
  void write_last_checkpoint(TrainingRun& run);
  void write_summary(TrainingRun& run);

  ExperimentConfig config_;
  std::string run_dir_;
  std::ostream& progress_;
  int64_t last_checkpoint_steps_ = 0;
  double checkpoint_seconds_ = 0;
};

// Writes `text` to `path` through a temporary file and a rename, so that a killed process never
// leaves a half-written file.
void write_file_atomically(const std::string& path, const std::string& text);

// Checkpoints: the agent's weights and optimiser state, counters and the resolved config.
struct Checkpoint {
  int64_t env_steps = 0;
  std::string config_yaml;
  // What exact resume needs besides the weights (last.pt only): env and generator states,
  // counters.
  std::map<std::string, torch::Tensor> extras;
};
void save_checkpoint(const std::string& path, Agent& agent, const Checkpoint& info);
// Reads the counters and config of a checkpoint without loading weights.
Checkpoint read_checkpoint_info(const std::string& path);
// The archive of a checkpoint, after its integrity check (rlforge/data/zip_archive.h): a missing,
// damaged or unreadable file throws one line naming it.
torch::serialize::InputArchive open_checkpoint(const std::string& path);
// Where save_checkpoint keeps the file `path` replaced: checkpoints/last.prev.pt for last.pt.
std::string previous_checkpoint(const std::string& path);
// Loads weights (and optimiser state) into `agent` and returns the counters, config and the
// named `extras`, reading the file once; a checkpoint that does not fit is an error naming it.
Checkpoint load_checkpoint(const std::string& path, Agent& agent, const std::vector<std::string>& extras = {});

// The resumed config must be the run's: the same env, agent and seed (the trainer section may
// differ, e.g. to train longer, and so may env.threads). Throws ConfigError naming the first difference.
void check_resume_compatible(const YAML::Node& run_config, const YAML::Node& new_config,
                             const std::string& run_dir);

}  // namespace rlforge
