#include "rlforge/agents/networks.h"

#include <functional>
#include <limits>
#include <stdexcept>

#include "rlforge/agents/fast_tanh.h"

namespace rlforge {

namespace {
torch::nn::AnyModule activation_module(const std::string& name) {
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (name == "elu") return torch::nn::AnyModule(torch::nn::ELU());
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  throw std::invalid_argument("unknown activation '" + name + "'; valid: tanh, relu, elu, gelu");
}

torch::nn::Linear orthogonal_linear(int64_t in, int64_t out, double gain, bool ortho = true) {
  torch::nn::Linear layer(in, out);
  if (!ortho) return layer;
  torch::NoGradGuard no_grad;
  torch::nn::init::orthogonal_(layer->weight, gain);
  torch::nn::init::zeros_(layer->bias);
  return layer;
}
}  // namespace

torch::nn::Linear make_linear(int64_t in, int64_t out, double gain, bool ortho) {
  return orthogonal_linear(in, out, gain, ortho);
}

torch::nn::Sequential make_mlp_trunk(int64_t in, const MlpConfig& config, double gain) {
  torch::nn::Sequential net;
  int64_t width = in;
  for (const int64_t h : config.hidden) {
    if (h <= 0) throw std::invalid_argument("hidden layer sizes must be positive, got " + std::to_string(h));
    net->push_back(orthogonal_linear(width, h, gain, config.ortho_init));
    net->push_back(activation_module(config.activation));
    width = h;
  }
  return net;
}

torch::nn::Sequential make_mlp(int64_t in, const MlpConfig& config, int64_t out,
                               double hidden_gain, double output_gain) {
  torch::nn::Sequential net = make_mlp_trunk(in, config, hidden_gain);
  const int64_t width = config.hidden.empty() ? in : config.hidden.back();
  net->push_back(orthogonal_linear(width, out, output_gain, config.ortho_init));
  return net;
}

torch::nn::Sequential make_nature_cnn(int64_t channels, int64_t height, int64_t width, int64_t features) {
  // Output side of a convolution without padding.
  auto out = [](int64_t size, int64_t kernel, int64_t stride) { return (size - kernel) / stride + 1; };
  if (channels <= 0 || height < 36 || width < 36 || features <= 0) {
    throw std::invalid_argument("the Nature CNN needs images of at least 36x36 pixels, got " + std::to_string(channels) +
                                "x" + std::to_string(height) + "x" + std::to_string(width) + " (channels x height x width)");
  }
  const int64_t h = out(out(out(height, 8, 4), 4, 2), 3, 1);
  const int64_t w = out(out(out(width, 8, 4), 4, 2), 3, 1);
  torch::nn::Sequential net;
  net->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 32, 8).stride(4)));
  net->push_back(torch::nn::ReLU());
  net->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 4).stride(2)));
  net->push_back(torch::nn::ReLU());
  net->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 64, 3).stride(1)));
  net->push_back(torch::nn::ReLU());
  net->push_back(torch::nn::Flatten());
  net->push_back(torch::nn::Linear(64 * h * w, features));
  net->push_back(torch::nn::ReLU());
  return net;
}

std::optional<ImageLayout> image_layout(const Space& space) {
  const std::vector<int64_t>& shape = space.shape();
  if (space.dtype() != DType::UInt8 || shape.size() < 2 || shape.size() > 4) return std::nullopt;
  ImageLayout l;
  if (shape.size() == 4) {
    l = {ImageLayout::Order::stacked_channels_last, shape[0] * shape[3], shape[1], shape[2]};
  } else if (shape.size() == 2) {
    l = {ImageLayout::Order::single, 1, shape[0], shape[1]};
  } else if (shape[2] <= 4 && shape[0] > 4) {
    l = {ImageLayout::Order::channels_last, shape[2], shape[0], shape[1]};
  } else {
    l = {ImageLayout::Order::channels_first, shape[0], shape[1], shape[2]};
  }
  return l;
}

torch::Tensor to_channels_first(const torch::Tensor& observations, const ImageLayout& layout) {
  const int64_t batch = observations.size(0);
  switch (layout.order) {
    case ImageLayout::Order::single:
      return observations.unsqueeze(1).contiguous();
    case ImageLayout::Order::channels_last:
      return observations.permute({0, 3, 1, 2}).contiguous();
    case ImageLayout::Order::stacked_channels_last:
      return observations.permute({0, 1, 4, 2, 3}).reshape({batch, layout.channels, layout.height, layout.width}).contiguous();
    case ImageLayout::Order::channels_first:
      break;
  }
  return observations.contiguous();
}

torch::Tensor from_channels_first(const torch::Tensor& images, const ImageLayout& layout,
                                  c10::IntArrayRef observation_shape) {
  const int64_t batch = images.size(0);
  switch (layout.order) {
    case ImageLayout::Order::single:
      return images.squeeze(1).contiguous();
    case ImageLayout::Order::channels_last:
      return images.permute({0, 2, 3, 1}).contiguous();
    case ImageLayout::Order::stacked_channels_last:
      return images.reshape({batch, observation_shape[0], observation_shape[3], layout.height, layout.width})
          .permute({0, 1, 3, 4, 2})
          .contiguous();
    case ImageLayout::Order::channels_first:
      break;
  }
  return images.contiguous();
}

torch::Tensor cnn_input(const torch::Tensor& images) {
  return images.to(torch::kFloat32).mul(1.0 / 255.0).contiguous(torch::MemoryFormat::ChannelsLast);
}

std::vector<std::shared_ptr<torch::nn::Module>> modules_of(const torch::nn::Sequential& net) {
  std::vector<std::shared_ptr<torch::nn::Module>> out;
  for (size_t i = 0; i < net->size(); ++i) out.push_back(net->ptr(i));
  return out;
}

IntervalBox propagate_interval(const std::vector<std::shared_ptr<torch::nn::Module>>& modules, IntervalBox box) {
  for (const auto& m : modules) {
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      box.center = linear->forward(box.center);
      box.radius = torch::nn::functional::linear(box.radius, linear->weight.abs());
      continue;
    }
    // A monotone activation maps the box's corners to the corners of the output's box.
    const torch::Tensor low = box.center - box.radius, high = box.center + box.radius;
    std::function<torch::Tensor(const torch::Tensor&)> activation;
    if (auto* tanh = dynamic_cast<torch::nn::TanhImpl*>(m.get())) {
      activation = [tanh](const torch::Tensor& x) { return tanh->forward(x); };
    } else if (auto* relu = dynamic_cast<torch::nn::ReLUImpl*>(m.get())) {
      activation = [relu](const torch::Tensor& x) { return relu->forward(x); };
    } else if (auto* elu = dynamic_cast<torch::nn::ELUImpl*>(m.get())) {
      activation = [elu](const torch::Tensor& x) { return elu->forward(x); };
    } else {
      throw std::invalid_argument("interval bounds pass Linear layers and tanh, relu or elu activations, not " + m->name());
    }
    const torch::Tensor out_low = activation(low), out_high = activation(high);
    box.center = (out_high + out_low) / 2;
    box.radius = (out_high - out_low) / 2;
  }
  return box;
}

bool interval_bounds_supported(const std::vector<std::shared_ptr<torch::nn::Module>>& modules) {
  if (modules.empty() || !dynamic_cast<torch::nn::LinearImpl*>(modules.back().get())) return false;
  for (const auto& m : modules) {
    if (!dynamic_cast<torch::nn::LinearImpl*>(m.get()) && !dynamic_cast<torch::nn::TanhImpl*>(m.get()) &&
        !dynamic_cast<torch::nn::ReLUImpl*>(m.get()) && !dynamic_cast<torch::nn::ELUImpl*>(m.get())) {
      return false;
    }
  }
  return true;
}

torch::Tensor output_gap_bound(const std::vector<std::shared_ptr<torch::nn::Module>>& modules, const IntervalBox& box,
                               const torch::Tensor& greedy, int64_t first_output) {
  auto* last = modules.empty() ? nullptr : dynamic_cast<torch::nn::LinearImpl*>(modules.back().get());
  if (last == nullptr) throw std::invalid_argument("gap bounds need a network that ends in a linear layer");
  const std::vector<std::shared_ptr<torch::nn::Module>> hidden_layers(modules.begin(), modules.end() - 1);
  const IntervalBox hidden = propagate_interval(hidden_layers, {box.center, box.radius.expand_as(box.center)});
  const int64_t actions = last->weight.size(0) - first_output;
  const torch::Tensor weight = last->weight.narrow(0, first_output, actions);
  const torch::Tensor bias = last->bias.narrow(0, first_output, actions);
  // Row j of W minus row greedy, per sample: [B, A, H]; the gap's bound is its value at the
  // centre plus |difference| x radius.
  const torch::Tensor weight_gap = weight.unsqueeze(0) - weight.index_select(0, greedy).unsqueeze(1);
  const torch::Tensor bias_gap = bias.unsqueeze(0) - bias.index_select(0, greedy).unsqueeze(1);
  return torch::einsum("bah,bh->ba", {weight_gap, hidden.center}) +
         torch::einsum("bah,bh->ba", {weight_gap.abs(), hidden.radius}) + bias_gap;
}

torch::Tensor greedy_certified(const torch::Tensor& gap_bound, const torch::Tensor& greedy) {
  const torch::Tensor others =
      gap_bound.scatter(1, greedy.unsqueeze(1), -std::numeric_limits<float>::infinity());
  return std::get<0>(others.max(1)) < 0;
}

bool MlpPass::supports(const std::vector<std::shared_ptr<torch::nn::Module>>& modules) {
  bool after_linear = false;
  for (const auto& m : modules) {
    if (dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      after_linear = true;
    } else if (after_linear && (dynamic_cast<torch::nn::TanhImpl*>(m.get()) || dynamic_cast<torch::nn::ReLUImpl*>(m.get()))) {
      after_linear = false;
    } else {
      return false;
    }
  }
  return !modules.empty();
}

MlpPass::MlpPass(const std::vector<std::shared_ptr<torch::nn::Module>>& modules) {
  if (!supports(modules)) throw std::invalid_argument("MlpPass: not a stack of Linear layers with tanh or relu");
  for (const auto& m : modules) {
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      layers_.push_back({linear, Activation::none});
    } else {
      layers_.back().activation = dynamic_cast<torch::nn::TanhImpl*>(m.get()) ? Activation::tanh : Activation::relu;
    }
  }
}

namespace {
torch::Tensor activation_backward(const torch::Tensor& grad, const torch::Tensor& output, bool tanh) {
  return tanh ? torch::tanh_backward(grad, output) : torch::threshold_backward(grad, output, 0);
}
}  // namespace

torch::Tensor MlpPass::forward(const torch::Tensor& x) {
  inputs_.resize(layers_.size());
  torch::Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    inputs_[i] = h;
    const Layer& layer = layers_[i];
    h = torch::addmm(layer.linear->bias, h, layer.linear->weight.t());
    if (layer.activation == Activation::tanh) fast_tanh_(h);
    if (layer.activation == Activation::relu) h.relu_();
  }
  output_ = h;
  return h;
}

torch::Tensor MlpPass::backward(const torch::Tensor& output_grad, bool input_grad) {
  // g: dLoss/d(layer i's output before its activation), walking from the last layer down.
  torch::Tensor g = output_grad;
  if (layers_.back().activation != Activation::none) {
    g = activation_backward(g, output_, layers_.back().activation == Activation::tanh);
  }
  for (size_t i = layers_.size(); i-- > 0;) {
    const Layer& layer = layers_[i];
    torch::Tensor& weight_grad = layer.linear->weight.mutable_grad();
    torch::Tensor& bias_grad = layer.linear->bias.mutable_grad();
    if (weight_grad.defined()) {
      torch::mm_out(weight_grad, g.t(), inputs_[i]);
    } else {
      weight_grad = torch::mm(g.t(), inputs_[i]);
    }
    if (bias_grad.defined()) {
      torch::sum_out(bias_grad, g, {0});
    } else {
      bias_grad = g.sum(0);
    }
    if (i == 0 && !input_grad) return {};
    torch::Tensor input = torch::mm(g, layer.linear->weight);
    if (i == 0) return input;
    // Back through the previous layer's activation, from its output (this layer's input).
    const Activation previous = layers_[i - 1].activation;
    g = previous == Activation::none ? input : activation_backward(input, inputs_[i], previous == Activation::tanh);
  }
  return {};
}

}  // namespace rlforge
