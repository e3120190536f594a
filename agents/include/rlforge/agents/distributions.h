#pragma once
// Action distributions of a batch: Categorical over logits, and a diagonal Gaussian with a
// state-independent log standard deviation.

#include <torch/torch.h>

namespace rlforge {

struct Categorical {
  torch::Tensor logits;  // [B, n], normalised (log-probabilities)

  explicit Categorical(const torch::Tensor& raw_logits);
  torch::Tensor sample(torch::Generator& generator) const;  // [B] int64
  torch::Tensor mode() const;                               // [B] int64
  torch::Tensor log_prob(const torch::Tensor& actions) const;  // [B]
  torch::Tensor entropy() const;                            // [B]
};

struct DiagGaussian {
  torch::Tensor mean;     // [B, d]
  torch::Tensor log_std;  // [d], or [B, d] when the spread depends on the state

  DiagGaussian(torch::Tensor mean, torch::Tensor log_std) : mean(std::move(mean)), log_std(std::move(log_std)) {}
  torch::Tensor sample(torch::Generator& generator) const;     // [B, d]
  torch::Tensor mode() const { return mean; }                  // [B, d]
  torch::Tensor log_prob(const torch::Tensor& actions) const;  // [B], summed over d
  torch::Tensor entropy() const;                               // [B]
};

}  // namespace rlforge
