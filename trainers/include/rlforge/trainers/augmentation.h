#pragma once
// Augmentations of what a learner trains on: random shifts and cutout of image frames, noise and
// masking of vectors. Supervised learning (agent.random_shift) and semi-supervised learning's
// weak and strong copies use them; every draw comes from the generator passed in.

#include <torch/torch.h>

#include "rlforge/agents/networks.h"

namespace rlforge {

// Random-shift offsets: one crop offset (row, column) per sample, in [0, 2 * pad].
torch::Tensor shift_offsets(int64_t batch, int64_t pad, torch::Generator& generator);

// Frames [B, ...] in `layout`, each padded by `pad` pixels (edges repeated) and cropped back to
// H x W at its sample's offset; every channel (and every stacked frame) of one sample moves
// together (DrQ, Kostrikov et al. 2020). Same shape and dtype.
torch::Tensor random_shift(const torch::Tensor& frames, const ImageLayout& layout, int64_t pad, const torch::Tensor& offsets);

// Cutout (DeVries and Taylor 2017), as FixMatch's strong augmentation ends: in each frame a square
// of side round(fraction * min(H, W)), centred anywhere in the frame (clipped at its edges), set
// to `fill` in every channel and stacked frame. Same shape and dtype.
torch::Tensor cutout(const torch::Tensor& frames, const ImageLayout& layout, double fraction, double fill,
                     torch::Generator& generator);

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

}  // namespace rlforge
