#pragma once
// Callbacks: everything that happens around the training loop. The Trainer runs a Learner and
// calls each callback, in order, at fixed points of the run. metrics.csv and eval.csv, TensorBoard,
// the progress bar, evaluation with best.pt, early stopping, recording, curve.png, stop requests
// and the distributed stop are callbacks (callbacks.h); a program adds its own through
// RunControl::callbacks (docs: trainers/README.md, examples/custom_callback/).
//
// Order of calls in a run:
//   on_start                       after the run is set up (and resumed: resumed_state())
//   per iteration (an update of an RL learner, an epoch when learning from data):
//     add_metric_values            values of the columns the callback added to metrics.csv
//     on_iteration(row)            the metrics row; may evaluate, record, request a stop
//     on_evaluation(record)        whenever any callback ran an evaluation (publish_evaluation)
//     on_checkpoint(state)         when last.pt is written: the callback's state for exact resume
//   on_train_end                   the loop is over (finished, early-stopped or interrupted)
//   on_summary(summary)            the lead rank of a run that was not interrupted: summary.yaml

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "rlforge/trainers/config.h"
#include "rlforge/evaluation/evaluation.h"
#include "rlforge/trainers/learner.h"
#include "rlforge/trainers/progress.h"

namespace rlforge {

class Callback;
class Distributed;

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
  bool early_stopped = false;  // ended by a callback's request to finish (then evaluated as at the end)
};

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
  // The caller's own callbacks, called after the built-in ones (every rank calls them).
  std::vector<std::shared_ptr<Callback>> callbacks;
};

// One row of metrics.csv: the learner's columns, then those callbacks added.
struct MetricsRow {
  int64_t steps = 0;
  const std::vector<Learner::Column>& columns;
  const std::vector<double>& values;
  double steps_per_second = 0;  // of this session (a resumed run counts from its resume)
};

// One evaluation, as every callback's on_evaluation sees it.
struct EvaluationRecord {
  int64_t steps = 0;
  bool final = false;  // the evaluation at the end of the run
  const std::vector<Learner::Column>& columns;  // eval.csv's, after its step column
  const Learner::Evaluation& evaluation;
  std::string score_name;  // the column best-model selection and early stopping compare
  double score = 0;        // its value, negated where lower is better (higher is always better)
  bool best = false;       // the best evaluation so far (best.pt was just written)
};

// How a run ends before total_steps.
enum class StopKind {
  interrupt,  // now, resumable, without a final evaluation or summary (Ctrl-C, a time budget)
  finish,     // as if total_steps were reached: final evaluation and summary (early stopping)
};

// What a callback sees of the run, and how it acts on it.
class TrainingRun {
 public:
  // Sets the run up: compute threads, device, this rank's learner, config.yaml, and with
  // control.resume the learner and the callbacks' state from checkpoints/last.pt. Progress lines
  // go to `log` (the lead rank's only).
  TrainingRun(const ExperimentConfig& config, std::string run_dir, std::ostream& log, const RunControl& control);
  ~TrainingRun();
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  const ExperimentConfig& config() const { return config_; }
  const RunControl& control() const { return control_; }
  Learner& learner() { return *learner_; }
  const Learner& learner() const { return *learner_; }
  const std::string& run_dir() const { return run_dir_; }
  // RUN_DIR/checkpoints/NAME.
  std::string checkpoint_path(const std::string& name) const;
  // This rank's last.pt (rank K > 0: rank_K.pt).
  std::string last_checkpoint() const;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // The rank that logs, evaluates and writes the run directory.
  bool lead() const { return rank_ == 0; }
  Distributed* distributed() const { return distributed_; }

  // "env_steps" or "epoch" (the learner's), and its word in progress lines ("steps", "epochs").
  const std::string& unit() const { return unit_; }
  std::string unit_words() const;
  int64_t steps() const { return learner_->steps(); }
  int64_t total_steps() const { return config_.trainer.total_steps; }
  // Steps when this session started (> 0 after a resume).
  int64_t first_steps() const { return first_steps_; }
  // Wall seconds of the whole run (earlier sessions included) and of this session.
  double elapsed_seconds() const { return elapsed_before_ + session_seconds(); }
  double session_seconds() const;

  // The resolved config's text (config.yaml), which every checkpoint carries.
  const std::string& resolved_config() const { return resolved_config_; }
  // After a resume: the callbacks' state as last.pt holds it (what on_checkpoint wrote); else null.
  bool resumed() const { return resumed_; }
  const YAML::Node& resumed_state() const { return resumed_state_; }

  // metrics.csv's columns after the step column: the learner's, then the callbacks'.
  const std::vector<Learner::Column>& metric_columns() const { return metric_columns_; }

  // Progress lines (a bar on a terminal); message() prints a line of its own.
  ProgressReporter& progress() { return *progress_; }
  // The stream progress lines go to (the lead rank's; other ranks' go nowhere).
  std::ostream& log() { return lead() ? log_ : silent_; }
  void message(const std::string& line) { progress_->message(line); }

  // Ends the loop after this iteration (last.pt is written first). `reason` is printed.
  void request_stop(StopKind kind, const std::string& reason);
  bool stop_requested(StopKind kind) const;
  // Replaces the requests (the distributed stop agrees them between ranks); clears the reason
  // of a kind no longer requested.
  void set_stop_requests(bool interrupt, bool finish);
  const std::string& stop_reason(StopKind kind) const;

  // Calls every callback's on_evaluation (the evaluation callback, after it evaluated).
  void publish_evaluation(const EvaluationRecord& record);

  // What Trainer::run returns; callbacks fill their parts (evaluations, early stopping).
  TrainResult result;

 private:
  friend class Trainer;
  void attach(std::vector<std::shared_ptr<Callback>> callbacks);
  void resume();
  void remove_interrupted_writes();

  const ExperimentConfig& config_;
  const RunControl& control_;
  std::string run_dir_;
  std::ostream& log_;
  std::ostringstream silent_;  // other ranks' lines
  int rank_ = 0, world_size_ = 1;
  Distributed* distributed_ = nullptr;
  ExperimentConfig rank_config_;
  std::unique_ptr<Learner> learner_;
  std::string unit_;
  std::string resolved_config_;
  int64_t first_steps_ = 0;
  double elapsed_before_ = 0;
  std::chrono::steady_clock::time_point start_;
  bool resumed_ = false;
  YAML::Node resumed_state_;
  std::vector<Learner::Column> metric_columns_;
  std::unique_ptr<ProgressReporter> progress_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  bool stop_[2] = {false, false};
  std::string stop_reason_[2];
};

class Callback {
 public:
  virtual ~Callback() = default;

  // Columns this callback adds to metrics.csv (and TensorBoard, where a tag is given), after the
  // learner's; add_metric_values appends their values, in that order, every iteration.
  virtual std::vector<Learner::Column> metric_columns(const TrainingRun& /*run*/) const { return {}; }
  virtual void add_metric_values(TrainingRun& /*run*/, std::vector<double>& /*values*/) {}

  virtual void on_start(TrainingRun& /*run*/) {}
  virtual void on_iteration(TrainingRun& /*run*/, const MetricsRow& /*row*/) {}
  virtual void on_evaluation(TrainingRun& /*run*/, const EvaluationRecord& /*record*/) {}
  // Writes what exact resume needs into `state` (one YAML mapping shared by all callbacks: use
  // keys of your own); resumed_state() gives it back at on_start.
  virtual void on_checkpoint(TrainingRun& /*run*/, YAML::Node& /*state*/) {}
  virtual void on_train_end(TrainingRun& /*run*/) {}
  virtual void on_summary(TrainingRun& /*run*/, YAML::Node& /*summary*/) {}
};

}  // namespace rlforge
