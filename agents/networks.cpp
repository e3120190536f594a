#include "rlforge/agents/networks.h"

#include <stdexcept>

namespace rlforge {

namespace {
torch::nn::AnyModule activation_module(const std::string& name) {
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (name == "elu") return torch::nn::AnyModule(torch::nn::ELU());
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  throw std::invalid_argument("unknown activation '" + name + "'; valid: tanh, relu, elu, gelu");
}

torch::nn::Linear orthogonal_linear(int64_t in, int64_t out, double gain) {
  torch::nn::Linear layer(in, out);
  torch::NoGradGuard no_grad;
  torch::nn::init::orthogonal_(layer->weight, gain);
  torch::nn::init::zeros_(layer->bias);
  return layer;
}
}  // namespace

torch::nn::Linear make_linear(int64_t in, int64_t out, double gain) { return orthogonal_linear(in, out, gain); }

torch::nn::Sequential make_mlp_trunk(int64_t in, const MlpConfig& config, double gain) {
  torch::nn::Sequential net;
  int64_t width = in;
  for (const int64_t h : config.hidden) {
    if (h <= 0) throw std::invalid_argument("hidden layer sizes must be positive, got " + std::to_string(h));
    net->push_back(orthogonal_linear(width, h, gain));
    net->push_back(activation_module(config.activation));
    width = h;
  }
  return net;
}

torch::nn::Sequential make_mlp(int64_t in, const MlpConfig& config, int64_t out,
                               double hidden_gain, double output_gain) {
  torch::nn::Sequential net = make_mlp_trunk(in, config, hidden_gain);
  const int64_t width = config.hidden.empty() ? in : config.hidden.back();
  net->push_back(orthogonal_linear(width, out, output_gain));
  return net;
}

}  // namespace rlforge
