#pragma once
// What the Trainer runs: one kind of learning (reinforcement on envs, supervised or
// self-supervised on data) behind one interface, so that everything around it is written once:
// the run directory, metrics.csv and eval.csv, TensorBoard, progress lines, evaluation every K
// steps, best-model selection and early stopping on an evaluation score, atomic checkpoints,
// exact resume, summary.yaml and curve.png.
//
// Steps count env steps for reinforcement learning and epochs (passes over the training split)
// for learning from data: trainer.total_steps / epochs, eval_every, log_every and
// checkpoint_every are in that unit.

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/trainers/config.h"
#include "rlforge/evaluation/evaluation.h"
#include "rlforge/trainers/learning_curve.h"

namespace rlforge {

class Distributed;

class Learner {
 public:
  // A column of metrics.csv or eval.csv and its TensorBoard tag (empty: not logged there).
  struct Column {
    std::string name, tag;
  };
  // One evaluation: values in the order of eval_columns(); `score` is what best-model selection
  // and early stopping compare (higher is better); `text` is the progress line's.
  struct Evaluation {
    std::vector<double> values;
    double score = NAN;
    std::string text;
    std::optional<EvaluationResult> episodes;  // when the evaluation ran episodes on an env
  };

  virtual ~Learner() = default;

  // What checkpoints hold, and what evaluation and recording act with.
  virtual Agent& agent() = 0;
  // "env_steps" or "epoch": the first column of metrics.csv and eval.csv.
  virtual std::string step_unit() const = 0;
  virtual int64_t steps() const = 0;
  // Learns for one row of metrics.csv (an update, an epoch); throws std::runtime_error when
  // learning breaks down (a NaN loss).
  virtual void iterate() = 0;

  // Non-empty once learning has nothing left to do (k-means whose centres no longer move): why,
  // for the log. The run then ends as an early stop does, with its final evaluation.
  virtual std::string converged() const { return {}; }

  // metrics.csv's columns after the step column, and their values after the last iterate().
  virtual std::vector<Column> metric_columns() const = 0;
  virtual std::vector<double> metric_values() const = 0;
  // The figure the progress line shows ("return" of recent episodes, training "loss").
  virtual std::pair<std::string, double> headline() const = 0;

  // eval.csv's columns after the step column; `final` marks the evaluation at the end of a run.
  virtual std::vector<Column> eval_columns() const = 0;
  virtual Evaluation evaluate(bool final) = 0;
  // The name of the score's column, and whether lower values of it are better.
  virtual std::pair<std::string, bool> score_column() const = 0;

  // Exact resume: extras of last.pt (and files in `checkpoint_dir`) that restore_state() takes
  // back after the agent's weights have been loaded; state_names() lists the extras it needs.
  virtual std::vector<std::string> state_names() const = 0;
  virtual void save_state(std::map<std::string, torch::Tensor>& extras, const std::string& checkpoint_dir) = 0;
  virtual void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t steps,
                             const std::string& checkpoint_dir, std::ostream& log) = 0;

  // Seconds spent, by part, since construction (summary.yaml's time_seconds), in order.
  virtual std::vector<std::pair<std::string, double>> time_seconds() const = 0;

  // After the final evaluation, with the best checkpoint's weights at hand: what summary.yaml
  // adds (a supervised run's test-split metrics). `best_checkpoint` may not exist.
  virtual void finish(YAML::Node& /*summary*/, const std::string& /*best_checkpoint*/, std::ostream& /*log*/) {}
  // On every rank, after training and before the lead's finish(): the collective work its summary
  // needs (federated clients scoring the global best model on their own test rows).
  virtual void before_summary(const std::string& /*best_checkpoint*/) {}

  // Episodes drawn as a GIF (reinforcement learning on an env that renders).
  virtual bool can_record() const { return false; }
  // Records one deterministic evaluation episode into `path`; returns a line for the log.
  virtual std::string record(const std::string& /*path*/) { return {}; }

  // What curve.png draws from metrics.csv and eval.csv.
  virtual CurveSpec curve(const std::string& title) const = 0;
};

// Whether lower values of an evaluation column are better: losses and errors (loss, *_loss, mse,
// mae; k-means inertia, negative log-likelihood, BIC), not returns, accuracies or silhouettes.
bool metric_lower_is_better(const std::string& name);

// The learner config.algo asks for. `config.run.seed` is this process's seed; an active
// `distributed` is for data-parallel PPO (the other learners refuse it).
std::unique_ptr<Learner> make_learner(const ExperimentConfig& config, torch::Device device,
                                      Distributed* distributed = nullptr);

// Reinforcement learning (PPO, DQN) on a vector env built from config.env; private parts in
// trainers/.
std::unique_ptr<Learner> make_rl_learner(const ExperimentConfig& config, torch::Device device, Distributed* distributed);

}  // namespace rlforge
