#include <cmath>

#include "rlforge/trainers/callbacks.h"
#include "rlforge/trainers/tensorboard.h"

namespace rlforge {

TensorBoardLogger::TensorBoardLogger() = default;
TensorBoardLogger::~TensorBoardLogger() = default;

void TensorBoardLogger::on_start(TrainingRun& run) {
  if (run.lead()) writer_ = std::make_unique<TensorBoardWriter>(run.run_dir());
}

void TensorBoardLogger::add(const std::string& tag, double value, int64_t steps) {
  if (writer_ && !tag.empty() && std::isfinite(value)) writer_->add_scalar(tag, value, steps);
}

void TensorBoardLogger::on_iteration(TrainingRun& run, const MetricsRow& row) {
  for (std::size_t i = 0; i < row.columns.size() && i < row.values.size(); ++i) {
    add(row.columns[i].tag, row.values[i], row.steps);
  }
  add(run.unit() == "env_steps" ? "time/steps_per_second" : "time/" + run.unit() + "s_per_second", row.steps_per_second,
      row.steps);
}

void TensorBoardLogger::on_evaluation(TrainingRun& /*run*/, const EvaluationRecord& record) {
  for (std::size_t i = 0; i < record.columns.size(); ++i) {
    add(record.columns[i].tag, record.evaluation.values[i], record.steps);
  }
  if (writer_) writer_->flush();
}

void TensorBoardLogger::on_train_end(TrainingRun& /*run*/) {
  if (writer_) writer_->flush();
}

}  // namespace rlforge
