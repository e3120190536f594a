#include <map>
#include <tuple>

#include "rlforge/trainers/callbacks.h"
#include "rlforge/trainers/trainer.h"

namespace rlforge {

namespace {

// An RL evaluation's figures from eval.csv's columns (the best one is kept as values only).
std::optional<EvaluationResult> episodes_of(const std::vector<Learner::Column>& columns,
                                            const std::vector<double>& values) {
  std::map<std::string, double> by_name;
  for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i) by_name[columns[i].name] = values[i];
  if (by_name.count("mean_return") == 0) return std::nullopt;
  EvaluationResult e;
  e.mean_return = by_name["mean_return"];
  e.std_return = by_name["std_return"];
  e.mean_length = by_name["mean_length"];
  e.episodes = static_cast<int64_t>(by_name["episodes"]);
  return e;
}

YAML::Node values_node(const std::vector<Learner::Column>& columns, const std::vector<double>& values) {
  YAML::Node n;
  for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i) {
    if (columns[i].name == "episodes") {
      n[columns[i].name] = static_cast<int64_t>(values[i]);
    } else {
      n[columns[i].name] = values[i];
    }
  }
  return n;
}

}  // namespace

void EvaluationCallback::on_start(TrainingRun& run) {
  const ExperimentConfig& c = run.config();
  columns_ = run.learner().eval_columns();
  std::tie(score_name_, lower_is_better_) = run.learner().score_column();
  if (!c.trainer.select_metric.empty()) {
    score_name_ = c.trainer.select_metric;
    lower_is_better_ = metric_lower_is_better(score_name_);
  }
  score_index_ = columns_.size();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == score_name_) score_index_ = i;
    names.push_back(columns_[i].name);
  }
  if (score_index_ == columns_.size()) {
    throw ConfigError(c.source + ": trainer.select_metric: '" + score_name_ +
                      "' is not evaluated by this run; expected one of " + join_names(names));
  }
  next_eval_ = c.trainer.eval_every > 0 ? c.trainer.eval_every : c.trainer.total_steps + 1;
  const YAML::Node& state = run.resumed_state();
  if (!run.resumed()) return;
  next_eval_ = state["next_eval"].as<int64_t>();
  if (state["best"]) {
    best_ = state["best"]["values"].as<std::vector<double>>();
    best_score_ = state["best"]["score"].as<double>();
    best_steps_ = state["best"]["steps"].as<int64_t>();
    run.result.best_eval = episodes_of(columns_, *best_);
    run.result.best_eval_steps = best_steps_;
  }
  // The latest evaluation: a run killed after its final evaluation and last.pt, before the
  // summary, resumes at its last step and must not evaluate (and log) that step again.
  if (state["last"]) {
    last_evaluated_ = state["last"]["steps"].as<int64_t>();
    final_values_ = state["last"]["values"].as<std::vector<double>>();
    if (const auto e = episodes_of(columns_, final_values_)) run.result.final_eval = *e;
  }
}

void EvaluationCallback::on_iteration(TrainingRun& run, const MetricsRow& row) {
  if (row.steps < next_eval_ || row.steps >= run.total_steps()) return;
  if (run.lead()) evaluate(run, false);
  while (next_eval_ <= row.steps) next_eval_ += run.config().trainer.eval_every;
}

void EvaluationCallback::evaluate(TrainingRun& run, bool final) {
  const int64_t steps = run.steps();
  last_evaluated_ = steps;
  const Learner::Evaluation e = run.learner().evaluate(final);
  const double score = lower_is_better_ ? -e.values[score_index_] : e.values[score_index_];
  const bool best = !best_ || score > best_score_;
  if (best) {
    best_ = e.values;
    best_score_ = score;
    best_steps_ = steps;
    run.result.best_eval = e.episodes;
    run.result.best_eval_steps = steps;
    save_checkpoint(run.checkpoint_path("best.pt"), run.learner().agent(), {steps, run.resolved_config(), {}});
  }
  run.publish_evaluation({steps, final, columns_, e, score_name_, score, best});
  final_values_ = e.values;
  if (e.episodes) run.result.final_eval = *e.episodes;
}

void EvaluationCallback::on_checkpoint(TrainingRun& /*run*/, YAML::Node& state) {
  state["next_eval"] = next_eval_;
  if (last_evaluated_ >= 0 && !final_values_.empty()) {
    state["last"]["steps"] = last_evaluated_;
    state["last"]["values"] = final_values_;
  }
  if (best_) {
    state["best"]["values"] = *best_;
    state["best"]["score"] = best_score_;
    state["best"]["steps"] = best_steps_;
  }
}

// The evaluation at the end, unless the last iteration was just evaluated (early stopping
// comes after an evaluation: that one is the final one).
void EvaluationCallback::on_train_end(TrainingRun& run) {
  if (run.lead() && !run.result.stopped && last_evaluated_ != run.steps()) evaluate(run, true);
}

void EvaluationCallback::on_summary(TrainingRun& run, YAML::Node& summary) {
  summary["final_eval"] = values_node(columns_, final_values_);
  YAML::Node best = values_node(columns_, *best_);
  best[run.unit()] = best_steps_;
  summary["best_eval"] = best;
  summary["select_metric"] = score_name_;
  for (std::size_t i = 0; i < columns_.size(); ++i) run.result.final_metrics.emplace_back(columns_[i].name, final_values_[i]);
}

}  // namespace rlforge
