#pragma once
// The training loop and everything around it: evaluation every K steps, metrics.csv and
// eval.csv, atomic checkpoints (last and best), summary.yaml, progress lines.
//
// Run directory: <out_dir>/<name>-<timestamp>/ with config.yaml (resolved), metrics.csv,
// eval.csv, checkpoints/last.pt and best.pt, summary.yaml.

#include <torch/torch.h>

#include <optional>
#include <ostream>
#include <string>

#include "rlforge/trainers/config.h"
#include "rlforge/trainers/evaluation.h"

namespace rlforge {

struct TrainResult {
  std::string run_dir;
  int64_t env_steps = 0;
  double wall_seconds = 0;
  EvaluationResult final_eval;
  std::optional<EvaluationResult> best_eval;
  int64_t best_eval_steps = 0;
};

// "cpu", "cuda", "cuda:N", "auto" -> a device; ConfigError when CUDA is asked for but absent.
torch::Device resolve_device(const std::string& name);

// A fresh run directory <out_dir>/<name>-<YYYYmmdd-HHMMSS>[-k].
std::string make_run_dir(const std::string& out_dir, const std::string& name);

class Trainer {
 public:
  // Progress lines go to `progress`.
  Trainer(ExperimentConfig config, std::string run_dir, std::ostream& progress);
  TrainResult run();

 private:
  ExperimentConfig config_;
  std::string run_dir_;
  std::ostream& progress_;
};

// Writes `text` to `path` through a temporary file and a rename, so that a killed process never
// leaves a half-written file.
void write_file_atomically(const std::string& path, const std::string& text);

// Checkpoints: policy and optimiser state, counters and the resolved config.
struct Checkpoint {
  int64_t env_steps = 0;
  std::string config_yaml;
};
void save_checkpoint(const std::string& path, Ppo& ppo, const Checkpoint& info);
// Reads the counters and config of a checkpoint without loading weights.
Checkpoint read_checkpoint_info(const std::string& path);
// Loads weights (and optimiser state) into `ppo`; a checkpoint that does not fit is an error
// naming the file.
void load_checkpoint(const std::string& path, Ppo& ppo);

}  // namespace rlforge
