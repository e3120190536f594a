#include "rlforge/trainers/semi_supervised.h"

#include <algorithm>
#include <stdexcept>

namespace rlforge {

DistributionAlignment::DistributionAlignment(torch::Tensor prior, double momentum)
    : prior_(prior.to(torch::kFloat32)), running_(prior_.clone()), momentum_(momentum) {}

torch::Tensor DistributionAlignment::align(const torch::Tensor& probabilities) {
  running_ = momentum_ * running_ + (1 - momentum_) * probabilities.mean(0).to(running_.device());
  const torch::Tensor ratio = (prior_ / running_.clamp_min(1e-6)).to(probabilities.device());
  const torch::Tensor aligned = probabilities * ratio;
  return aligned / aligned.sum(1, true);
}

FlexibleThresholds::FlexibleThresholds(int64_t rows, int64_t classes)
    : last_(torch::full({rows}, -1, torch::kInt64)), classes_(classes) {}

torch::Tensor FlexibleThresholds::thresholds(double threshold) const {
  const torch::Tensor confident = last_.ge(0);
  const torch::Tensor sigma =
      torch::bincount(last_.masked_select(confident), {}, classes_).to(torch::kFloat64);
  const double never = static_cast<double>(last_.numel() - confident.sum().item<int64_t>());
  const double denominator = std::max({sigma.max().item<double>(), never, 1.0});
  const torch::Tensor beta = sigma / denominator;
  return (beta / (2 - beta) * threshold).to(torch::kFloat32);
}

void FlexibleThresholds::record(const torch::Tensor& rows, const torch::Tensor& labels, const torch::Tensor& reached) {
  const torch::Tensor r = rows.to(torch::kCPU), keep = reached.to(torch::kCPU).to(torch::kBool);
  last_.index_put_({r.masked_select(keep)}, labels.to(torch::kCPU).masked_select(keep));
}

EmaTeacher::EmaTeacher(std::vector<torch::Tensor> parameters, double decay)
    : parameters_(std::move(parameters)), decay_(decay) {
  if (!(decay > 0 && decay < 1)) throw std::invalid_argument("the teacher's decay must lie in (0, 1)");
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : parameters_) average_.push_back(p.detach().clone());
}

void EmaTeacher::update() {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) average_[i].mul_(decay_).add_(parameters_[i].detach(), 1 - decay_);
}

torch::Tensor EmaTeacher::with_average(const std::function<torch::Tensor()>& f) {
  // The swap writes through variable_data(), which has a version counter of its own: a graph
  // built before it (the labelled rows' loss) still sees its weights as unchanged, and they are
  // by the time it back-propagates.
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> student;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor weights = parameters_[i].variable_data();
    student.push_back(weights.clone());
    weights.copy_(average_[i]);
  }
  const auto put_back = [&] {
    for (std::size_t i = 0; i < parameters_.size(); ++i) parameters_[i].variable_data().copy_(student[i]);
  };
  torch::Tensor out;
  try {
    out = f().detach();
  } catch (...) {
    put_back();
    throw;
  }
  put_back();
  return out;
}

torch::Tensor EmaTeacher::state() const {
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& a : average_) flat.push_back(a.flatten().to(torch::kCPU));
  return torch::cat(flat);
}

void EmaTeacher::set_state(const torch::Tensor& flat) {
  int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (torch::Tensor& a : average_) {
    a.copy_(flat.narrow(0, offset, a.numel()).view_as(a));
    offset += a.numel();
  }
  if (offset != flat.numel()) throw std::runtime_error("the saved teacher does not match the model's parameters");
}

PseudoLabelStep pseudo_label_step(const OutputsOf& student, const OutputsOf& teacher, const torch::Tensor& unlabeled,
                                  const torch::Tensor& rows, const SemiSupervisedConfig& config,
                                  const Augmentation& augmentation, torch::Generator& generator,
                                  PseudoLabelRemedies& remedies, const torch::Tensor& action_scale) {
  namespace F = torch::nn::functional;
  PseudoLabelStep s;
  const bool classes = !action_scale.defined();
  {
    torch::NoGradGuard no_grad;
    if (classes) {
      torch::Tensor probabilities = teacher(augmentation.weak(unlabeled, generator)).detach().softmax(1);
      if (remedies.alignment.enabled()) probabilities = remedies.alignment.align(probabilities);
      const auto [confidence, label] = probabilities.max(1);
      s.targets = label;
      if (remedies.thresholds.enabled()) {
        // The thresholds of the effects before this batch; then the batch's confident rows count.
        const torch::Tensor per_class = remedies.thresholds.thresholds(config.threshold).to(confidence.device());
        s.confident = confidence.ge(per_class.index_select(0, label)).to(torch::kFloat32);
        remedies.thresholds.record(rows, label, confidence.ge(config.threshold));
      } else {
        s.confident = confidence.ge(config.threshold).to(torch::kFloat32);
      }
    } else {
      const torch::Tensor first = teacher(augmentation.weak(unlabeled, generator)).detach();
      const torch::Tensor second = teacher(augmentation.weak(unlabeled, generator)).detach();
      const torch::Tensor spread = ((first - second).abs() / action_scale.to(first.device())).amax(1);
      s.targets = 0.5 * (first + second);
      s.confident = spread.le(config.action_tolerance).to(torch::kFloat32);
    }
  }
  const torch::Tensor strong = student(augmentation.strong(unlabeled, generator));
  const torch::Tensor per_row =
      classes ? F::cross_entropy(strong, s.targets, F::CrossEntropyFuncOptions().reduction(torch::kNone))
              : (strong - s.targets).pow(2).mean(1);
  s.loss = (per_row * s.confident.to(per_row.device())).mean();
  return s;
}

}  // namespace rlforge
