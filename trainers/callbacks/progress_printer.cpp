#include "rlforge/trainers/callbacks.h"

namespace rlforge {

void ProgressPrinter::on_iteration(TrainingRun& run, const MetricsRow& row) {
  run.progress().update(row.steps, row.steps_per_second, run.learner().headline().second);
}

void ProgressPrinter::on_evaluation(TrainingRun& run, const EvaluationRecord& record) {
  const std::string& text = record.evaluation.text;
  run.message(run.unit() == "env_steps" ? "eval at " + std::to_string(record.steps) + " steps: " + text
                                        : "eval at " + run.unit() + " " + std::to_string(record.steps) + ": " + text);
}

void ProgressPrinter::on_train_end(TrainingRun& run) { run.progress().finish(); }

}  // namespace rlforge
