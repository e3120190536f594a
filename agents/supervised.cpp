#include "rlforge/agents/supervised.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace rlforge {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& c, std::vector<torch::Tensor> parameters) {
  if (c.nesterov && (c.name != "sgd" || c.momentum <= 0)) {
    throw std::invalid_argument("nesterov needs the sgd optimizer with momentum > 0");
  }
  if (c.name == "sgd") {
    return std::make_unique<torch::optim::SGD>(std::move(parameters), torch::optim::SGDOptions(c.learning_rate)
                                                                          .momentum(c.momentum)
                                                                          .nesterov(c.nesterov)
                                                                          .weight_decay(c.weight_decay));
  }
  if (c.name == "adam") {
    return std::make_unique<torch::optim::Adam>(std::move(parameters), torch::optim::AdamOptions(c.learning_rate)
                                                                           .betas({c.beta1, c.beta2})
                                                                           .eps(c.eps)
                                                                           .weight_decay(c.weight_decay));
  }
  if (c.name == "adamw") {
    return std::make_unique<torch::optim::AdamW>(std::move(parameters), torch::optim::AdamWOptions(c.learning_rate)
                                                                            .betas({c.beta1, c.beta2})
                                                                            .eps(c.eps)
                                                                            .weight_decay(c.weight_decay));
  }
  if (c.name == "rmsprop") {
    return std::make_unique<torch::optim::RMSprop>(std::move(parameters), torch::optim::RMSpropOptions(c.learning_rate)
                                                                              .alpha(c.alpha)
                                                                              .eps(c.eps)
                                                                              .momentum(c.momentum)
                                                                              .weight_decay(c.weight_decay));
  }
  throw std::invalid_argument("unknown optimizer '" + c.name + "'; valid: sgd, adam, adamw, rmsprop");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(learning_rate);
}

void initialise_weights(torch::nn::Module& module, const std::string& scheme) {
  if (scheme == "default") return;
  if (scheme != "orthogonal" && scheme != "xavier" && scheme != "kaiming") {
    throw std::invalid_argument("unknown weight init '" + scheme + "'; valid: orthogonal, xavier, kaiming, default");
  }
  torch::NoGradGuard no_grad;
  // Children only: a module under construction is not yet held by a shared_ptr.
  for (const auto& m : module.modules(/*include_self=*/false)) {
    torch::Tensor weight, bias;
    if (auto* linear = m->as<torch::nn::Linear>()) {
      weight = linear->weight;
      bias = linear->bias;
    } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
      weight = conv->weight;
      bias = conv->bias;
    } else {
      continue;
    }
    if (scheme == "orthogonal") {
      torch::nn::init::orthogonal_(weight, std::sqrt(2.0));
    } else if (scheme == "xavier") {
      torch::nn::init::xavier_uniform_(weight);
    } else {
      torch::nn::init::kaiming_uniform_(weight, 0.0, torch::kFanIn, torch::kReLU);
    }
    if (bias.defined()) bias.zero_();
  }
}

PredictorImpl::PredictorImpl(int64_t in, int64_t out, const PredictorConfig& config) {
  if (in <= 0 || out <= 0) throw std::invalid_argument("a predictor needs inputs and outputs");
  if (!(config.dropout >= 0 && config.dropout < 1)) {
    throw std::invalid_argument("dropout must be in [0, 1), got " + std::to_string(config.dropout));
  }
  body_ = torch::nn::Sequential();
  int64_t width = in;
  for (const int64_t h : config.mlp.hidden) {
    body_->push_back(torch::nn::Linear(width, h));
    if (config.mlp.activation == "tanh") {
      body_->push_back(torch::nn::Tanh());
    } else if (config.mlp.activation == "relu") {
      body_->push_back(torch::nn::ReLU());
    } else if (config.mlp.activation == "elu") {
      body_->push_back(torch::nn::ELU());
    } else if (config.mlp.activation == "gelu") {
      body_->push_back(torch::nn::GELU());
    } else {
      throw std::invalid_argument("unknown activation '" + config.mlp.activation + "'; valid: tanh, relu, elu, gelu");
    }
    if (config.dropout > 0) body_->push_back(torch::nn::Dropout(config.dropout));
    width = h;
  }
  head_ = torch::nn::Linear(width, out);
  register_module("body", body_);
  register_module("head", head_);
  initialise_weights(*this, config.init);
  // The output layer starts small under orthogonal init, as PPO's heads do.
  if (config.init == "orthogonal") {
    torch::NoGradGuard no_grad;
    torch::nn::init::orthogonal_(head_->weight, 1.0);
  }
  input_mean_ = register_buffer("input_mean", torch::zeros({in}));
  input_std_ = register_buffer("input_std", torch::ones({in}));
}

torch::Tensor PredictorImpl::forward(torch::Tensor x) {
  x = x.to(torch::kFloat32).flatten(1);
  return head_->forward(body_->forward((x - input_mean_) / input_std_));
}

torch::Tensor PredictorImpl::forward(torch::Tensor x, LinearTape& tape) {
  x = x.to(torch::kFloat32).flatten(1);
  return tape.linear(*head_, forward_recorded(body_, (x - input_mean_) / input_std_, tape));
}

void PredictorImpl::set_input_statistics(const torch::Tensor& mean, const torch::Tensor& std) {
  torch::NoGradGuard no_grad;
  input_mean_.copy_(mean);
  // A constant input column would divide by zero: leave it unscaled.
  input_std_.copy_(torch::where(std > 1e-8, std, torch::ones_like(std)));
}

InferenceGraph PredictorImpl::inference_graph(bool classification, const InferenceOptions& options) const {
  using Op = GraphNode::Op;
  const int64_t in = input_mean_.numel(), out = head_->weight.size(0);
  const float inf = std::numeric_limits<float>::infinity();
  const Space action_space = classification ? Space::discrete(out) : Space::box({out}, -inf, inf);
  GraphBuilder g(Space::box({in}, -inf, inf), classification ? "classifier" : "regressor", action_space);
  GraphValue x = g.vector_input(g.observation());
  x = g.with_constant(Op::div, g.with_constant(Op::sub, x, input_mean_), input_std_);
  const GraphValue y = g.linear(g.sequential(x, body_), head_);
  g.output("action", classification ? g.unary(Op::argmax, y) : y);
  if (options.value) throw std::invalid_argument("a predictor has no value output to export");
  if (options.distribution && classification) g.output("logits", y);
  return g.finish();
}

SupervisedModel::SupervisedModel(std::shared_ptr<torch::nn::Module> module, OptimizerConfig optimizer, ActFn act,
                                 uint64_t seed, torch::Device device, GraphFn graph, OutputsFn outputs)
    : module_(std::move(module)),
      optimizer_config_(std::move(optimizer)),
      act_(std::move(act)),
      graph_(std::move(graph)),
      outputs_(std::move(outputs)),
      generator_(at::detail::createCPUGenerator(seed)),
      device_(device) {
  module_->to(device_);
  optimizer_ = make_optimizer(optimizer_config_, module_->parameters());
}

InferenceGraph SupervisedModel::inference_graph(const InferenceOptions& options) {
  if (!graph_) throw std::logic_error("this model has no exportable policy (a self-supervised model predicts pairs)");
  return graph_(options);
}

Agent::Outputs SupervisedModel::differentiable_outputs(const torch::Tensor& observations) {
  if (!outputs_) return Agent::differentiable_outputs(observations);
  // Attributions read the model as it predicts: dropout off.
  const bool was_training = module_->is_training();
  module_->eval();
  Outputs out = outputs_(observations.to(device_));
  module_->train(was_training);
  return out;
}

torch::Tensor SupervisedModel::act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  const bool was_training = module_->is_training();
  module_->eval();
  torch::Tensor out = act_(observations.to(device_), deterministic, generator);
  module_->train(was_training);
  return out;
}

void SupervisedModel::save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) {
  module_->save(model);
  optimizer_->save(optimizer);
}

void SupervisedModel::load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) {
  module_->load(model);
  module_->to(device_);
  // Loading replaced the parameters' storage: the optimiser must step the new tensors.
  optimizer_ = make_optimizer(optimizer_config_, module_->parameters());
  optimizer_->load(optimizer);
}

}  // namespace rlforge

namespace rlforge {

namespace {
torch::nn::Sequential mlp_layers(int64_t in, const std::vector<int64_t>& hidden, const std::string& activation,
                                 int64_t out) {
  torch::nn::Sequential net;
  int64_t width = in;
  for (const int64_t h : hidden) {
    net->push_back(torch::nn::Linear(width, h));
    if (activation == "tanh") {
      net->push_back(torch::nn::Tanh());
    } else if (activation == "elu") {
      net->push_back(torch::nn::ELU());
    } else if (activation == "gelu") {
      net->push_back(torch::nn::GELU());
    } else {
      net->push_back(torch::nn::ReLU());
    }
    width = h;
  }
  if (out > 0) net->push_back(torch::nn::Linear(width, out));
  return net;
}
}  // namespace

SelfSupervisedNetImpl::SelfSupervisedNetImpl(const Space& observation_space, const Space& action_space,
                                             const std::string& task, const PredictorConfig& config)
    : task_(task) {
  if (const auto layout = image_layout(observation_space)) layout_ = *layout;
  frames_ = layout_.channels > 0;
  discrete_actions_ = action_space.is_discrete();
  action_inputs_ = discrete_actions_ ? action_space.n() : static_cast<int64_t>(action_space.size());
  const int64_t obs_size = static_cast<int64_t>(observation_space.size());
  if (frames_ && (task == "forward_dynamics" || task == "masked_reconstruction" || task == "denoising")) {
    throw std::invalid_argument(task + " predicts observations, which needs a pixel decoder rlforge lacks; for frames use "
                                "inverse_dynamics");
  }
  int64_t features = 0;
  if (frames_) {
    const int64_t cnn_features = config.mlp.hidden.empty() ? 512 : config.mlp.hidden.back();
    encoder_ = make_nature_cnn(layout_.channels, layout_.height, layout_.width, cnn_features);
    features = cnn_features;
  } else {
    if (config.mlp.hidden.empty()) throw std::invalid_argument("a self-supervised encoder needs hidden layers");
    encoder_ = mlp_layers(obs_size, config.mlp.hidden, config.mlp.activation, 0);
    features = config.mlp.hidden.back();
  }
  const std::vector<int64_t> head_hidden{features};
  if (task == "forward_dynamics") {
    head_ = mlp_layers(features + action_inputs_, head_hidden, "relu", obs_size);
  } else if (task == "inverse_dynamics") {
    head_ = mlp_layers(2 * features, head_hidden, "relu", action_inputs_);
  } else if (task == "masked_reconstruction" || task == "denoising") {
    head_ = mlp_layers(features, head_hidden, "relu", obs_size);
  } else {
    throw std::invalid_argument("unknown self-supervised task '" + task +
                                "'; valid: forward_dynamics, inverse_dynamics, masked_reconstruction, denoising");
  }
  register_module("encoder", encoder_);
  register_module("head", head_);
  initialise_weights(*this, config.init);
}

torch::Tensor SelfSupervisedNetImpl::encode(const torch::Tensor& observations) {
  if (frames_) {
    // Bytes in the env's layout -> [B, C, H, W] in [0, 1], as PPO's CNN takes them.
    return encoder_->forward(cnn_input(to_channels_first(observations, layout_)));
  }
  return encoder_->forward(observations.to(torch::kFloat32).flatten(1));
}

torch::Tensor SelfSupervisedNetImpl::head(const torch::Tensor& features, const torch::Tensor& second) {
  if (task_ == "forward_dynamics") {
    const torch::Tensor action = discrete_actions_
                                     ? torch::one_hot(second.to(torch::kInt64).flatten(), action_inputs_).to(features.dtype())
                                     : second.to(features.dtype());
    return head_->forward(torch::cat({features, action}, 1));
  }
  if (task_ == "inverse_dynamics") return head_->forward(torch::cat({features, second}, 1));
  return head_->forward(features);
}

}  // namespace rlforge
