#include "rlforge/agents/flat_parameters.h"

#include <stdexcept>

namespace rlforge {

FlatParameters::FlatParameters(std::vector<torch::Tensor> parameters) : parameters_(std::move(parameters)) {
  if (parameters_.empty()) throw std::invalid_argument("FlatParameters: no parameters");
  int64_t total = 0;
  for (const auto& p : parameters_) total += p.numel();
  const auto options = parameters_.front().options().requires_grad(false);
  data_ = torch::empty({total}, options);
  grad_ = torch::zeros({total}, options);
  data_.set_requires_grad(true);
  data_.mutable_grad() = grad_;
  rebind();
}

void FlatParameters::rebind() {
  torch::NoGradGuard no_grad;
  const torch::Tensor data = data_.detach();
  int64_t offset = 0;
  for (auto& p : parameters_) {
    const int64_t n = p.numel();
    if (p.device() != data.device() || p.scalar_type() != data.scalar_type()) {
      throw std::invalid_argument("FlatParameters: parameters of different devices or dtypes");
    }
    torch::Tensor slot = data.narrow(0, offset, n).view(p.sizes());
    if (!slot.is_same(p) && slot.data_ptr() != p.data_ptr()) slot.copy_(p.detach());
    p.set_data(slot);
    p.mutable_grad() = grad_.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
}

}  // namespace rlforge
