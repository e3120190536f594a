#include "rlforge/trainers/callbacks.h"

namespace rlforge {

void EarlyStopping::on_start(TrainingRun& run) {
  if (!run.resumed()) return;
  const YAML::Node& state = run.resumed_state();
  if (state["patience"]["score"]) {
    score_to_beat_ = state["patience"]["score"].as<double>();
    has_score_ = true;
  }
  evaluations_without_improvement_ = state["patience"]["evaluations_without_improvement"].as<int64_t>();
  if (state["best"]) best_steps_ = state["best"]["steps"].as<int64_t>();
}

void EarlyStopping::on_evaluation(TrainingRun& run, const EvaluationRecord& record) {
  score_name_ = record.score_name;
  if (record.best) best_steps_ = record.steps;
  if (!has_score_ || record.score > score_to_beat_ + run.config().trainer.early_stopping_min_delta) {
    score_to_beat_ = record.score;
    has_score_ = true;
    evaluations_without_improvement_ = 0;
  } else {
    ++evaluations_without_improvement_;
  }
}

void EarlyStopping::on_iteration(TrainingRun& run, const MetricsRow& row) {
  const TrainerSection& t = run.config().trainer;
  if (t.early_stopping_patience <= 0 || evaluations_without_improvement_ < t.early_stopping_patience) return;
  const std::string at = run.unit() == "env_steps" ? std::to_string(row.steps) + " env steps"
                                                   : run.unit() + " " + std::to_string(row.steps);
  run.request_stop(StopKind::finish, "early stopping at " + at + ": " + score_name_ + " has not improved by " +
                                         std::to_string(t.early_stopping_min_delta) + " in " +
                                         std::to_string(t.early_stopping_patience) + " evaluations (best at " +
                                         std::to_string(best_steps_) + ")");
}

void EarlyStopping::on_checkpoint(TrainingRun& /*run*/, YAML::Node& state) {
  if (has_score_) state["patience"]["score"] = score_to_beat_;
  state["patience"]["evaluations_without_improvement"] = evaluations_without_improvement_;
}

}  // namespace rlforge
