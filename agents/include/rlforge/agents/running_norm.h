#pragma once
// Running mean and variance of a stream of vectors, kept as module buffers so that they are
// saved and loaded with the model (observation and return normalisation, as SB3's VecNormalize).

#include <torch/torch.h>

namespace rlforge {

class RunningNormImpl : public torch::nn::Module {
 public:
  explicit RunningNormImpl(int64_t size);

  // Merges a batch [B, size] (Chan et al.'s parallel update).
  void update(const torch::Tensor& batch);
  // (x - mean) / sqrt(var + epsilon), clipped to [-clip, clip] when clip > 0.
  torch::Tensor normalize(const torch::Tensor& x, double clip, double epsilon = 1e-8) const;
  // x / sqrt(var + epsilon), clipped (for rewards, which keep their sign and offset).
  torch::Tensor scale(const torch::Tensor& x, double clip, double epsilon = 1e-8) const;

  const torch::Tensor& mean() const { return mean_; }
  const torch::Tensor& var() const { return var_; }
  double count() const { return count_.item<double>(); }

 private:
  torch::Tensor mean_, var_, count_;  // float64
};
TORCH_MODULE(RunningNorm);

}  // namespace rlforge
