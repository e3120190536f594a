#include "rlforge/trainers/semi_supervised.h"

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
  std::vector<torch::Tensor> student;
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      student.push_back(parameters_[i].detach().clone());
      parameters_[i].detach().copy_(average_[i]);
    }
  }
  torch::Tensor out;
  try {
    out = f().detach();
  } catch (...) {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < parameters_.size(); ++i) parameters_[i].detach().copy_(student[i]);
    throw;
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) parameters_[i].detach().copy_(student[i]);
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
                                  const SemiSupervisedConfig& config, const Augmentation& augmentation,
                                  torch::Generator& generator, DistributionAlignment& alignment,
                                  const torch::Tensor& action_scale) {
  namespace F = torch::nn::functional;
  PseudoLabelStep s;
  const bool classes = !action_scale.defined();
  {
    torch::NoGradGuard no_grad;
    if (classes) {
      torch::Tensor probabilities = teacher(augmentation.weak(unlabeled, generator)).detach().softmax(1);
      if (alignment.enabled()) probabilities = alignment.align(probabilities);
      const auto [confidence, label] = probabilities.max(1);
      s.targets = label;
      s.confident = confidence.ge(config.threshold).to(torch::kFloat32);
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
