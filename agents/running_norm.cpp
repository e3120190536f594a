#include "rlforge/agents/running_norm.h"

namespace rlforge {

RunningNormImpl::RunningNormImpl(int64_t size) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  mean_ = register_buffer("mean", torch::zeros({size}, f64));
  var_ = register_buffer("var", torch::ones({size}, f64));
  count_ = register_buffer("count", torch::full({}, 1e-4, f64));
}

void RunningNormImpl::update(const torch::Tensor& batch) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = batch.to(mean_.device(), torch::kFloat64).reshape({batch.size(0), -1});
  const double n = static_cast<double>(x.size(0));
  const torch::Tensor batch_mean = x.mean(0);
  const torch::Tensor batch_var = x.var(0, /*unbiased=*/false);
  const double count = count_.item<double>();
  const double total = count + n;
  const torch::Tensor delta = batch_mean - mean_;
  mean_.add_(delta * (n / total));
  const torch::Tensor m2 = var_ * count + batch_var * n + delta.pow(2) * (count * n / total);
  var_.copy_(m2 / total);
  count_.fill_(total);
}

torch::Tensor RunningNormImpl::normalize(const torch::Tensor& x, double clip, double epsilon) const {
  const torch::Tensor mean = mean_.to(x.dtype());
  const torch::Tensor std = (var_ + epsilon).sqrt().to(x.dtype());
  torch::Tensor y = (x - mean) / std;
  return clip > 0 ? y.clamp(-clip, clip) : y;
}

torch::Tensor RunningNormImpl::scale(const torch::Tensor& x, double clip, double epsilon) const {
  torch::Tensor y = x / (var_ + epsilon).sqrt().to(x.dtype());
  return clip > 0 ? y.clamp(-clip, clip) : y;
}

}  // namespace rlforge
