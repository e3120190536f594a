#pragma once
// FixMatch (Sohn et al. 2020) for tables, vector observations and frames, with Discrete labels or
// Box actions, and two remedies for confirmation bias: a mean teacher and distribution alignment.
// The learner (supervised_learner.cpp) draws the batches, adds the labelled loss and steps the
// optimiser; this file makes the pseudo-labels and the unlabelled loss.

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "rlforge/trainers/augmentation.h"
#include "rlforge/trainers/config.h"

namespace rlforge {

// A model's outputs for inputs as the data gives them: class logits [B, C], or the policy's
// action means [B, d] for Box actions.
using OutputsOf = std::function<torch::Tensor(const torch::Tensor&)>;

// The weak and the strong copy of a batch of inputs.
struct Augmentation {
  std::function<torch::Tensor(const torch::Tensor&, torch::Generator&)> weak, strong;
};

// Distribution alignment (ReMixMatch, Berthelot et al. 2020): the teacher's class probabilities
// on unlabelled rows are multiplied by p(labelled classes) / (running mean of its predictions)
// and renormalised, so that pseudo-labels cannot pile onto the classes the model already favours.
class DistributionAlignment {
 public:
  DistributionAlignment() = default;
  // prior [C]: the class shares of the labelled rows. The running mean starts there and moves
  // by (1 - momentum) towards each batch's mean prediction.
  DistributionAlignment(torch::Tensor prior, double momentum);
  bool enabled() const { return prior_.defined(); }
  // probabilities [U, C] -> aligned [U, C]; takes this batch into the running mean first.
  torch::Tensor align(const torch::Tensor& probabilities);
  const torch::Tensor& running_mean() const { return running_; }
  void set_running_mean(const torch::Tensor& running) { running_ = running.clone(); }

 private:
  torch::Tensor prior_, running_;
  double momentum_ = 0.999;
};

// Flexible thresholds (FlexMatch, Zhang et al. 2021): a class the model rarely labels with
// confidence yet gets a lower threshold, so that pseudo-labels do not all go to the classes it
// learnt first. Each unlabelled row's last confident class is kept; class c's learning effect
// sigma(c) counts the rows whose last confident class is c, and its threshold is
// M(beta(c)) x threshold with beta(c) = sigma(c) / max(max sigma, rows never confident) and
// M(x) = x / (2 - x) (the paper's convex mapping, with its threshold warm-up).
class FlexibleThresholds {
 public:
  FlexibleThresholds() = default;
  FlexibleThresholds(int64_t rows, int64_t classes);
  bool enabled() const { return last_.defined(); }
  // [C] thresholds from the current learning effects.
  torch::Tensor thresholds(double threshold) const;
  // Rows (positions in the unlabelled set) whose top probability reached `threshold` now have
  // `labels` as their last confident class.
  void record(const torch::Tensor& rows, const torch::Tensor& labels, const torch::Tensor& reached);
  const torch::Tensor& last_confident() const { return last_; }
  void set_last_confident(const torch::Tensor& last) { last_ = last.clone(); }

 private:
  torch::Tensor last_;  // [N] int64: class, or -1 for a row never labelled with confidence
  int64_t classes_ = 0;
};

// What the remedies for confirmation bias carry from step to step (each one off unless built).
struct PseudoLabelRemedies {
  DistributionAlignment alignment;
  FlexibleThresholds thresholds;
};

// Mean teacher (Tarvainen and Valpola 2017): an exponential moving average of the student's
// weights labels the unlabelled rows; it drifts less from step to step than the student does.
class EmaTeacher {
 public:
  EmaTeacher() = default;
  // The student's parameters (shared, not copied) and the average's decay in (0, 1).
  EmaTeacher(std::vector<torch::Tensor> parameters, double decay);
  bool enabled() const { return !parameters_.empty(); }
  // After each optimiser step: average <- decay * average + (1 - decay) * weights.
  void update();
  // f() run with the averaged weights in the student's parameters; the student's are put back.
  torch::Tensor with_average(const std::function<torch::Tensor()>& f);
  // The averaged weights, flattened into one tensor, and putting such a tensor back.
  torch::Tensor state() const;
  void set_state(const torch::Tensor& flat);

 private:
  std::vector<torch::Tensor> parameters_, average_;
  double decay_ = 0;
};

struct PseudoLabelStep {
  torch::Tensor loss;       // the unlabelled loss: mean over all U rows, unconfident ones counting 0
  torch::Tensor targets;    // [U] classes, or [U, d] action means
  torch::Tensor confident;  // [U] float: 1 where the row's pseudo-label counts
};

// One step's unlabelled loss.
// - Classes: the teacher's probabilities on a weak copy (aligned when remedies.alignment is
//   enabled); where the top one is at least config.threshold (or its class's flexible threshold),
//   the student's cross-entropy on a strong copy against that class. `rows` [U] are the rows'
//   positions in the unlabelled set (for the flexible thresholds).
// - Box actions (`action_scale` [d] defined: the labelled actions' standard deviations): the
//   teacher's means on two weak copies; where they differ by at most config.action_tolerance
//   standard deviations in every dimension, the student's squared error on a strong copy against
//   their average.
PseudoLabelStep pseudo_label_step(const OutputsOf& student, const OutputsOf& teacher, const torch::Tensor& unlabeled,
                                  const torch::Tensor& rows, const SemiSupervisedConfig& config,
                                  const Augmentation& augmentation, torch::Generator& generator,
                                  PseudoLabelRemedies& remedies, const torch::Tensor& action_scale = {});

}  // namespace rlforge
