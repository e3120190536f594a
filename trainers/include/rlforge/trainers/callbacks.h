#pragma once
// The built-in callbacks (trainers/callbacks/, one file each). Trainer::run adds them to every run
// in this order, then RunControl::callbacks, then DistributedStop for data-parallel runs.

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlforge/trainers/callback.h"

namespace rlforge {

class TensorBoardWriter;

// metrics.csv (a row per iteration) and eval.csv (a row per evaluation), lead rank only. No
// wall-clock columns: the same config and seed give the same files. A resumed run drops the rows
// written after its checkpoint.
class CsvLogger : public Callback {
 public:
  void on_start(TrainingRun& run) override;
  void on_iteration(TrainingRun& run, const MetricsRow& row) override;
  void on_evaluation(TrainingRun& run, const EvaluationRecord& record) override;
  void on_train_end(TrainingRun& run) override;

 private:
  std::ofstream metrics_, evals_;
};

// TensorBoard event files (lead rank): every tagged metrics and eval column, and the rate.
class TensorBoardLogger : public Callback {
 public:
  TensorBoardLogger();
  ~TensorBoardLogger() override;
  void on_start(TrainingRun& run) override;
  void on_iteration(TrainingRun& run, const MetricsRow& row) override;
  void on_evaluation(TrainingRun& run, const EvaluationRecord& record) override;
  void on_train_end(TrainingRun& run) override;

 private:
  void add(const std::string& tag, double value, int64_t steps);
  std::unique_ptr<TensorBoardWriter> writer_;
};

// The progress bar or periodic lines, and the evaluations' lines.
class ProgressPrinter : public Callback {
 public:
  void on_iteration(TrainingRun& run, const MetricsRow& row) override;
  void on_evaluation(TrainingRun& run, const EvaluationRecord& record) override;
  void on_train_end(TrainingRun& run) override;
};

// Evaluates every trainer.eval_every steps and at the end (lead rank), keeps best.pt on the
// trainer.select_metric column (default: the learner's score), and puts the final and best
// evaluations into TrainResult and summary.yaml.
class EvaluationCallback : public Callback {
 public:
  void on_start(TrainingRun& run) override;
  void on_iteration(TrainingRun& run, const MetricsRow& row) override;
  void on_checkpoint(TrainingRun& run, YAML::Node& state) override;
  void on_train_end(TrainingRun& run) override;
  void on_summary(TrainingRun& run, YAML::Node& summary) override;

 private:
  void evaluate(TrainingRun& run, bool final);
  std::vector<Learner::Column> columns_;
  std::string score_name_;
  bool lower_is_better_ = false;
  std::size_t score_index_ = 0;
  int64_t next_eval_ = 0;
  int64_t last_evaluated_ = -1;
  std::optional<std::vector<double>> best_;
  double best_score_ = 0;
  int64_t best_steps_ = 0;
  std::vector<double> final_values_;
};

// trainer.early_stopping: asks the run to finish when `patience` evaluations in a row did not beat
// the best score by more than `min_delta` (patience 0: counts, never stops).
class EarlyStopping : public Callback {
 public:
  void on_start(TrainingRun& run) override;
  void on_evaluation(TrainingRun& run, const EvaluationRecord& record) override;
  void on_iteration(TrainingRun& run, const MetricsRow& row) override;
  void on_checkpoint(TrainingRun& run, YAML::Node& state) override;

 private:
  double score_to_beat_ = 0;
  bool has_score_ = false;
  int64_t evaluations_without_improvement_ = 0;
  int64_t best_steps_ = 0;
  std::string score_name_;
};

// trainer.record_every: one deterministic evaluation episode as videos/step_N.gif, and
// videos/final.gif at the end (lead rank, learners that can record).
class EpisodeRecorder : public Callback {
 public:
  void on_start(TrainingRun& run) override;
  void on_iteration(TrainingRun& run, const MetricsRow& row) override;
  void on_checkpoint(TrainingRun& run, YAML::Node& state) override;
  void on_train_end(TrainingRun& run) override;

 private:
  void record(TrainingRun& run, const std::string& name);
  bool recording_ = false;
  int64_t next_record_ = 0;
};

// curve.png from metrics.csv and eval.csv at the end of the run (also an interrupted one).
class CurvePlotter : public Callback {
 public:
  void on_train_end(TrainingRun& run) override;
};

// RunControl::stop_after_steps and RunControl::stop_requested (Ctrl-C): interrupts the run.
class StopOnRequest : public Callback {
 public:
  void on_iteration(TrainingRun& run, const MetricsRow& row) override;
};

// Data-parallel runs: every rank stops after the same iteration (Ctrl-C reaches them at different
// moments; only the lead rank evaluates, so only it knows of early stopping). Runs last.
class DistributedStop : public Callback {
 public:
  void on_iteration(TrainingRun& run, const MetricsRow& row) override;
};

// The built-in callbacks for `run`, in their order (DistributedStop excluded).
std::vector<std::shared_ptr<Callback>> standard_callbacks();

}  // namespace rlforge
