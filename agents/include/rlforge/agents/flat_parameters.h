#pragma once
// A module's parameters laid out in one contiguous tensor, and their gradients in another.
// An optimiser given data() steps every parameter in a handful of large ops instead of a few
// per parameter, and a gradient-norm clip is one norm. The parameters stay ordinary leaves of
// their module (autograd and serialisation work as before): their storage is a view of data(),
// their .grad() a view of grad().

#include <torch/torch.h>

#include <vector>

namespace rlforge {

class WorkerPool;

class FlatParameters {
 public:
  // `parameters` in the order they are laid out; all of one device and dtype.
  explicit FlatParameters(std::vector<torch::Tensor> parameters);

  // Takes the parameters' current values back into the flat layout, after something replaced
  // their storage (torch::load does).
  void rebind();

  // A leaf holding every parameter; its .grad() is grad().
  const torch::Tensor& data() const { return data_; }
  const torch::Tensor& grad() const { return grad_; }
  const std::vector<torch::Tensor>& parameters() const { return parameters_; }

 private:
  std::vector<torch::Tensor> parameters_;
  torch::Tensor data_, grad_;
};

// The L2 norm of all gradients (CPU).
double gradient_norm(const FlatParameters& parameters);

// One step of `optimizer` (LibTorch's Adam over exactly parameters.data(); no weight decay, no
// amsgrad) with the gradients scaled by `grad_scale`, in one vectorised pass on the CPU instead
// of LibTorch's ops, each of which allocates a weight-sized temporary (fresh pages every step
// at these sizes). The state stays Adam's own, so saving and loading the optimiser is unchanged;
// the arithmetic is LibTorch's, in its order. Other devices: grad scaled, then optimizer.step().
// With a `pool` of several workers, large parameter sets are split between them: the update is
// element by element, so the numbers are the same for any split (the pass is bound by memory,
// and two cores move more of it than one).
void adam_step(FlatParameters& parameters, torch::optim::Adam& optimizer, float grad_scale = 1.0f,
               WorkerPool* pool = nullptr);

}  // namespace rlforge
