#include "rlforge/trainers/semi_supervised.h"

namespace rlforge {

torch::Tensor VectorAugmenter::operator()(const torch::Tensor& inputs, double noise, double mask,
                                          torch::Generator& generator) const {
  const torch::Tensor x = inputs.to(torch::kFloat32).flatten(1);
  torch::Tensor out = x + noise * std_ * torch::randn(x.sizes(), generator).to(x.device());
  if (mask > 0) {
    const torch::Tensor replaced = torch::rand(x.sizes(), generator).lt(mask).to(x.device());
    out = torch::where(replaced, mean_.expand_as(out), out);
  }
  return out.reshape(inputs.sizes());
}

FixMatchStep fixmatch_step(const std::function<torch::Tensor(const torch::Tensor&)>& logits_of,
                           const torch::Tensor& labeled, const torch::Tensor& labels, const torch::Tensor& unlabeled,
                           const SemiSupervisedConfig& config, const VectorAugmenter& augment,
                           torch::Generator& generator) {
  namespace F = torch::nn::functional;
  FixMatchStep s;
  s.labeled_logits = logits_of(augment(labeled, config.weak_noise, 0, generator));
  s.supervised_loss = F::cross_entropy(s.labeled_logits, labels);
  {
    torch::NoGradGuard no_grad;
    const auto [confidence, label] = logits_of(augment(unlabeled, config.weak_noise, 0, generator)).softmax(1).max(1);
    s.pseudo_labels = label;
    s.confident = confidence.ge(config.threshold).to(torch::kFloat32);
  }
  const torch::Tensor strong = logits_of(augment(unlabeled, config.strong_noise, config.strong_mask, generator));
  const torch::Tensor unlabeled_loss =
      (F::cross_entropy(strong, s.pseudo_labels, F::CrossEntropyFuncOptions().reduction(torch::kNone)) * s.confident)
          .mean();
  s.loss = s.supervised_loss + config.unlabeled_weight * unlabeled_loss;
  return s;
}

}  // namespace rlforge
