#include "rlforge/agents/dp_sgd.h"

#include <set>
#include <sstream>
#include <stdexcept>

namespace rlforge {

namespace {

std::string shape(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

}  // namespace

torch::Tensor LinearTape::linear(torch::nn::LinearImpl& layer, const torch::Tensor& input) {
  if (input.dim() != 2) {
    throw std::invalid_argument("DP-SGD: a linear layer's input must be [batch, features], got " + shape(input));
  }
  torch::Tensor output = layer.forward(input);
  entries_.push_back({&layer, input, output});
  return output;
}

torch::Tensor forward_recorded(torch::nn::Sequential& sequential, torch::Tensor input, LinearTape& tape) {
  for (auto& item : *sequential) {
    if (const auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(item.ptr())) {
      input = tape.linear(*linear, input);
    } else {
      input = item.forward(input);
    }
  }
  return input;
}

torch::Tensor per_sample_gradient_norms(const torch::Tensor& per_sample_losses, const LinearTape& tape) {
  const auto& entries = tape.entries();
  if (entries.empty()) throw std::invalid_argument("DP-SGD: no linear layer was recorded in the forward pass");
  std::vector<torch::Tensor> outputs;
  outputs.reserve(entries.size());
  for (const auto& e : entries) outputs.push_back(e.output);
  // dL_i/dy_i for every sample at once: the loss is a sum over samples, each output row belongs
  // to one sample.
  const std::vector<torch::Tensor> output_grads =
      torch::autograd::grad({per_sample_losses.sum()}, outputs, {}, /*retain_graph=*/true, /*create_graph=*/false,
                            /*allow_unused=*/true);
  torch::Tensor squared = torch::zeros({per_sample_losses.size(0)}, per_sample_losses.options().dtype(torch::kFloat64));
  for (std::size_t k = 0; k < entries.size(); ++k) {
    if (!output_grads[k].defined()) continue;
    const torch::Tensor g = output_grads[k].to(torch::kFloat64).pow(2).sum(1);
    const torch::Tensor a = entries[k].input.detach().to(torch::kFloat64).pow(2).sum(1);
    squared += g * a;
    if (entries[k].layer->bias.defined()) squared += g;
  }
  return squared.sqrt();
}

DpGradientStats dp_sgd_gradient(const torch::Tensor& per_sample_losses, const LinearTape& tape,
                                const std::vector<torch::Tensor>& parameters, const DpSgdConfig& config,
                                double expected_batch_size, torch::Generator& generator) {
  if (!(config.max_grad_norm > 0)) throw std::invalid_argument("DP-SGD: max_grad_norm must be > 0");
  if (!(config.noise_multiplier >= 0)) throw std::invalid_argument("DP-SGD: noise_multiplier must be >= 0");
  if (!(expected_batch_size > 0)) throw std::invalid_argument("DP-SGD: the expected batch size must be > 0");
  if (per_sample_losses.dim() != 1) {
    throw std::invalid_argument("DP-SGD: per-sample losses must be [batch], got " + shape(per_sample_losses));
  }
  // Every trainable parameter must be clipped: it belongs to one recorded layer, recorded once (a
  // layer applied twice would need the cross terms of its two uses).
  std::set<const void*> layers, covered;
  for (const auto& e : tape.entries()) {
    if (!layers.insert(e.layer).second) {
      throw std::invalid_argument("DP-SGD: a linear layer ran twice in one forward pass; per-sample norms need each once");
    }
    covered.insert(e.layer->weight.unsafeGetTensorImpl());
    if (e.layer->bias.defined()) covered.insert(e.layer->bias.unsafeGetTensorImpl());
  }
  for (const torch::Tensor& p : parameters) {
    if (p.requires_grad() && !covered.count(p.unsafeGetTensorImpl())) {
      throw std::invalid_argument("DP-SGD: a trainable parameter of shape " + shape(p) +
                                  " is not in a recorded linear layer; its gradient would escape clipping");
    }
  }
  const torch::Tensor norms = per_sample_gradient_norms(per_sample_losses, tape);
  // Opacus's factor: min(1, C / (norm + 1e-6)).
  const torch::Tensor factors =
      (config.max_grad_norm / (norms + 1e-6)).clamp_max(1.0).to(per_sample_losses.scalar_type()).detach();
  const std::vector<torch::Tensor> clipped_sums = torch::autograd::grad(
      {(per_sample_losses * factors).sum()}, parameters, {}, /*retain_graph=*/false, /*create_graph=*/false,
      /*allow_unused=*/true);
  const double noise_std = config.noise_multiplier * config.max_grad_norm;
  torch::NoGradGuard no_grad;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    const torch::Tensor& p = parameters[k];
    if (!p.requires_grad()) continue;
    torch::Tensor sum = clipped_sums[k].defined() ? clipped_sums[k] : torch::zeros_like(p);
    const torch::Tensor noise = torch::randn(p.sizes(), generator, torch::dtype(torch::kFloat32)).to(p.device(), p.scalar_type());
    p.mutable_grad() = (sum + noise_std * noise) / expected_batch_size;
  }
  DpGradientStats stats;
  stats.samples = per_sample_losses.size(0);
  if (stats.samples > 0) {
    stats.mean_norm = norms.mean().item<double>();
    stats.clipped_fraction = norms.gt(config.max_grad_norm).to(torch::kFloat64).mean().item<double>();
  }
  return stats;
}

}  // namespace rlforge
