#pragma once
// The vector env as LibTorch sees it: its batch buffers as tensors without copies, and a
// policy's actions turned into env actions.

#include <torch/torch.h>

#include "rlforge/envs/vector_env.h"

namespace rlforge {

// Torch's dtype for an env element type.
torch::Dtype torch_dtype(DType dtype);

class EnvTensors {
 public:
  explicit EnvTensors(VectorEnv& venv);

  // Views of the vector env's buffers, valid until its next step or reset.
  torch::Tensor observations() const;        // [N, ...]
  torch::Tensor final_observations() const;  // [N, ...], rows meaningful where an episode ended
  torch::Tensor rewards() const;             // [N] float32
  torch::Tensor terminated() const;          // [N] uint8
  torch::Tensor truncated() const;           // [N] uint8

  // Steps the vector env with a policy's actions [N] or [N, d] (any device): Discrete as int64,
  // Box clipped to the action space (the policy's unclipped actions stay with the caller).
  void step(const torch::Tensor& actions);

 private:
  VectorEnv& venv_;
  std::vector<int64_t> batch_shape_;
  torch::Dtype observation_dtype_;
  torch::Tensor low_, high_;
};

}  // namespace rlforge
