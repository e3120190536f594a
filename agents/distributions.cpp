#include "rlforge/agents/distributions.h"

#include <cmath>

namespace rlforge {

Categorical::Categorical(const torch::Tensor& raw_logits) : logits(torch::log_softmax(raw_logits, -1)) {}

torch::Tensor Categorical::sample(torch::Generator& generator) const {
  return torch::multinomial(logits.exp(), 1, /*replacement=*/true, generator).squeeze(-1);
}

torch::Tensor Categorical::mode() const { return logits.argmax(-1); }

torch::Tensor Categorical::log_prob(const torch::Tensor& actions) const {
  return logits.gather(-1, actions.to(torch::kInt64).unsqueeze(-1)).squeeze(-1);
}

torch::Tensor Categorical::entropy() const { return -(logits.exp() * logits).sum(-1); }

torch::Tensor DiagGaussian::sample(torch::Generator& generator) const {
  return mean + log_std.exp() * torch::randn(mean.sizes(), generator, mean.options());
}

torch::Tensor DiagGaussian::log_prob(const torch::Tensor& actions) const {
  static const double kLogSqrt2Pi = 0.5 * std::log(2.0 * M_PI);
  const torch::Tensor z = (actions - mean) * (-log_std).exp();
  return (-0.5 * z.pow(2) - log_std - kLogSqrt2Pi).sum(-1);
}

torch::Tensor DiagGaussian::entropy() const {
  static const double kHalfLog2PiE = 0.5 * std::log(2.0 * M_PI * M_E);
  return (log_std + kHalfLog2PiE).sum(-1).expand({mean.size(0)});
}

}  // namespace rlforge
