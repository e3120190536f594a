#pragma once
// The training loop and everything around it: evaluation every K steps, metrics.csv and
// eval.csv, atomic checkpoints (last and best), summary.yaml, progress lines.
//
// Run directory: <out_dir>/<name>-<timestamp>/ with config.yaml (resolved), metrics.csv,
// eval.csv, checkpoints/last.pt and best.pt, summary.yaml.

#include <torch/torch.h>

#include <atomic>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "rlforge/trainers/config.h"
#include "rlforge/trainers/evaluation.h"

namespace rlforge {

struct TrainResult {
  std::string run_dir;
  int64_t env_steps = 0;  // steps in the learner's unit: env steps, or epochs when learning from data
  double wall_seconds = 0;
  // Episodes of the final and the best evaluation (when evaluations run episodes).
  EvaluationResult final_eval;
  std::optional<EvaluationResult> best_eval;
  int64_t best_eval_steps = 0;
  // The final evaluation's columns (eval.csv's) and values.
  std::vector<std::pair<std::string, double>> final_metrics;
  bool stopped = false;        // stopped before the end (Ctrl-C, stop_after_steps); resumable
  bool early_stopped = false;  // ended by early stopping (then evaluated as at the end)
};

// "cpu", "cuda", "cuda:N", "auto" -> a device; ConfigError when CUDA is asked for but absent.
torch::Device resolve_device(const std::string& name);

// A fresh run directory <out_dir>/<name>-<YYYYmmdd-HHMMSS>[-k].
std::string make_run_dir(const std::string& out_dir, const std::string& name);

class Distributed;

// How a run starts and when it stops early.
struct RunControl {
  // Continue the run in `run_dir` from checkpoints/last.pt, exactly where it stopped.
  bool resume = false;
  // > 0: stop (checkpoint written, no final evaluation) after the first update at or past this
  // many env steps, as a killed run would.
  int64_t stop_after_steps = 0;
  // Checked after every update; when set, the run stops as above (Ctrl-C in the CLI).
  const std::atomic<bool>* stop_requested = nullptr;
  // Draw a progress bar in place (a terminal) instead of periodic lines.
  bool terminal = false;
  // Data-parallel PPO with the other ranks of this group (all given the same run directory).
  // Rank 0 writes the run directory (logs, evaluations, last.pt, best.pt); rank K > 0 writes
  // only checkpoints/rank_K.pt (its env and generator state for resume). total_steps and every
  // step count are summed over the ranks.
  Distributed* distributed = nullptr;
};

class Trainer {
 public:
  // Progress lines go to `progress`.
  Trainer(ExperimentConfig config, std::string run_dir, std::ostream& progress);
  // Returns with `stopped` set when the run was stopped before total_steps.
  TrainResult run(const RunControl& control = {});

 private:
  ExperimentConfig config_;
  std::string run_dir_;
  std::ostream& progress_;
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
// Loads weights (and optimiser state) into `agent` and returns the counters, config and the
// named `extras`, reading the file once; a checkpoint that does not fit is an error naming it.
Checkpoint load_checkpoint(const std::string& path, Agent& agent, const std::vector<std::string>& extras = {});

// The resumed config must be the run's: the same env, agent and seed (the trainer section may
// differ, e.g. to train longer, and so may env.threads). Throws ConfigError naming the first difference.
void check_resume_compatible(const YAML::Node& run_config, const YAML::Node& new_config,
                             const std::string& run_dir);

}  // namespace rlforge
