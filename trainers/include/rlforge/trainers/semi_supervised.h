#pragma once
// FixMatch (Sohn et al. 2020) for vector inputs: the augmentations, and the loss of one step.
// The learner (supervised_learner.cpp) draws the batches and steps the optimiser.

#include <torch/torch.h>

#include <functional>

#include "rlforge/trainers/config.h"

namespace rlforge {

// Noise and masking of vectors in units of each feature's spread over the training inputs.
class VectorAugmenter {
 public:
  VectorAugmenter() = default;
  // Per-feature mean and standard deviation [d] of the training inputs (labelled or not).
  VectorAugmenter(torch::Tensor mean, torch::Tensor std) : mean_(std::move(mean)), std_(std::move(std)) {}
  // inputs [B, ...] plus Gaussian noise of `noise` feature standard deviations; with `mask` > 0,
  // that share of features replaced by their mean. Same shape, float32.
  torch::Tensor operator()(const torch::Tensor& inputs, double noise, double mask, torch::Generator& generator) const;

 private:
  torch::Tensor mean_, std_;
};

struct FixMatchStep {
  torch::Tensor loss;             // supervised + unlabeled_weight * unlabelled, to back-propagate
  torch::Tensor supervised_loss;  // cross-entropy of the labelled rows' weak copies
  torch::Tensor labeled_logits;   // [B, C]
  torch::Tensor pseudo_labels;    // [U] the weak copies' top class
  torch::Tensor confident;        // [U] float: 1 where that class's probability >= threshold
};

// One step's loss: labelled rows on a weak copy; each unlabelled row whose weak copy the model
// labels with confidence >= threshold pulls its strong copy towards that pseudo-label.
FixMatchStep fixmatch_step(const std::function<torch::Tensor(const torch::Tensor&)>& logits_of,
                           const torch::Tensor& labeled, const torch::Tensor& labels, const torch::Tensor& unlabeled,
                           const SemiSupervisedConfig& config, const VectorAugmenter& augment,
                           torch::Generator& generator);

}  // namespace rlforge
