#pragma once
// DP-SGD (Abadi et al. 2016): each sample's gradient clipped to norm C, the clipped gradients
// summed, Gaussian noise of standard deviation sigma * C added, divided by the expected batch
// size; any optimiser then steps on the result. Privacy accounting is stats/privacy_accountant.h.
//
// Per-sample gradient norms come without materialising per-sample gradients ("ghost clipping":
// Goodfellow 2015; Li et al. 2022): for a linear layer y = W a + b applied to sample i, the
// sample's gradient is g_i a_i^T (g_i = dL_i/dy_i), whose squared Frobenius norm is
// |g_i|^2 |a_i|^2, and the bias's is |g_i|^2. One backward pass gives every g_i; a second one,
// of sum_i c_i L_i with c_i = min(1, C / |grad_i|), gives the sum of the clipped gradients. The
// network's linear layers must be recorded on a LinearTape during the forward pass, and every
// trainable parameter must belong to one of them: anything else would escape clipping.

#include <torch/torch.h>

#include <vector>

namespace rlforge {

struct DpSgdConfig {
  bool enabled = false;
  double noise_multiplier = 0;  // sigma; solved from target_epsilon when that is set
  double target_epsilon = 0;    // > 0: the noise multiplier is chosen to spend at most this
  double max_grad_norm = 1.0;   // C
  double delta = 1e-5;
};

// The linear layers a forward pass ran through, with their inputs and outputs.
class LinearTape {
 public:
  // layer(input), recorded. Inputs are [B, in]: one row per sample.
  torch::Tensor linear(torch::nn::LinearImpl& layer, const torch::Tensor& input);
  struct Entry {
    torch::nn::LinearImpl* layer;
    torch::Tensor input;   // [B, in]
    torch::Tensor output;  // [B, out]
  };
  const std::vector<Entry>& entries() const { return entries_; }
  void clear() { entries_.clear(); }

 private:
  std::vector<Entry> entries_;
};

// Runs `sequential` on `input`, recording its Linear layers on `tape` (other modules run as they are).
torch::Tensor forward_recorded(torch::nn::Sequential& sequential, torch::Tensor input, LinearTape& tape);

// Each sample's gradient norm of its loss over the tape's layers, [B]. `per_sample_losses` [B]
// must come from the recorded forward pass; its graph is kept for the clipped pass.
torch::Tensor per_sample_gradient_norms(const torch::Tensor& per_sample_losses, const LinearTape& tape);

struct DpGradientStats {
  int64_t samples = 0;
  double mean_norm = 0;         // before clipping
  double clipped_fraction = 0;  // samples whose norm exceeded max_grad_norm
};

// Sets each parameter's .grad to the DP-SGD gradient of the batch: per-sample clipping,
// the sum, noise N(0, (sigma C)^2) per element drawn from `generator`, divided by
// `expected_batch_size`. Every trainable parameter in `parameters` must belong to a layer
// recorded once on the tape (std::invalid_argument otherwise). An empty batch (Poisson sampling
// can draw one) gives noise alone.
DpGradientStats dp_sgd_gradient(const torch::Tensor& per_sample_losses, const LinearTape& tape,
                                const std::vector<torch::Tensor>& parameters, const DpSgdConfig& config,
                                double expected_batch_size, torch::Generator& generator);

}  // namespace rlforge
