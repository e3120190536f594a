#include "rlforge/agents/dqn.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "rlforge/agents/fast_tanh.h"
#include "rlforge/replay/prioritized_replay_buffer.h"
#include "rlforge/replay/replay_buffer.h"

namespace rlforge {

namespace {

torch::Dtype dtype_of(DType dtype) {
  switch (dtype) {
    case DType::Float32: return torch::kFloat32;
    case DType::UInt8: return torch::kUInt8;
    case DType::Int64: return torch::kInt64;
  }
  return torch::kFloat32;
}

std::string text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

void DqnConfig::validate() const {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  require(learning_rate > 0, "learning_rate must be > 0, got " + text(learning_rate));
  require(buffer_size > 0, "buffer_size must be > 0, got " + std::to_string(buffer_size));
  require(learning_starts >= 0, "learning_starts must be >= 0, got " + std::to_string(learning_starts));
  require(batch_size > 0, "batch_size must be > 0, got " + std::to_string(batch_size));
  require(tau > 0 && tau <= 1, "tau must be in (0, 1], got " + text(tau));
  require(gamma >= 0 && gamma <= 1, "gamma must be in [0, 1], got " + text(gamma));
  require(train_freq > 0, "train_freq must be > 0, got " + std::to_string(train_freq));
  require(gradient_steps > 0 || gradient_steps == -1, "gradient_steps must be > 0 or -1, got " + std::to_string(gradient_steps));
  require(target_update_interval > 0, "target_update_interval must be > 0, got " + std::to_string(target_update_interval));
  require(exploration_fraction >= 0 && exploration_fraction <= 1,
          "exploration_fraction must be in [0, 1], got " + text(exploration_fraction));
  require(exploration_initial_eps >= 0 && exploration_initial_eps <= 1,
          "exploration_initial_eps must be in [0, 1], got " + text(exploration_initial_eps));
  require(exploration_final_eps >= 0 && exploration_final_eps <= 1,
          "exploration_final_eps must be in [0, 1], got " + text(exploration_final_eps));
  require(max_grad_norm > 0, "max_grad_norm must be > 0, got " + text(max_grad_norm));
  require(adam_eps > 0, "adam_eps must be > 0, got " + text(adam_eps));
  require(n_step >= 1, "n_step must be >= 1, got " + std::to_string(n_step));
  require(prioritized_replay_alpha >= 0, "prioritized_replay_alpha must be >= 0, got " + text(prioritized_replay_alpha));
  require(prioritized_replay_beta0 >= 0 && prioritized_replay_beta0 <= 1,
          "prioritized_replay_beta0 must be in [0, 1], got " + text(prioritized_replay_beta0));
  require(prioritized_replay_eps > 0, "prioritized_replay_eps must be > 0, got " + text(prioritized_replay_eps));
  require(loss == "huber" || loss == "mse", "loss must be huber or mse, got '" + loss + "'");
  require(policy.cnn_features > 0, "cnn_features must be > 0, got " + std::to_string(policy.cnn_features));
}

double DqnConfig::exploration_rate(int64_t steps, int64_t total_steps) const {
  const double progress = total_steps > 0 ? static_cast<double>(steps) / static_cast<double>(total_steps) : 1.0;
  if (exploration_fraction <= 0 || progress >= exploration_fraction) return exploration_final_eps;
  return exploration_initial_eps + progress * (exploration_final_eps - exploration_initial_eps) / exploration_fraction;
}

// ---------------------------------------------------------------------------------------------
// QNetwork

QNetworkImpl::QNetworkImpl(const Space& observation_space, int64_t actions, const QNetworkConfig& config)
    : actions_(actions), observation_space_(observation_space), config_(config) {
  const int64_t outputs = actions + (config.dueling ? 1 : 0);
  const double gain = std::sqrt(2.0);
  const std::optional<ImageLayout> layout = image_layout(observation_space);
  image_ = layout.has_value();
  if (image_) {
    layout_ = *layout;
    cnn_ = register_module("cnn", make_nature_cnn(layout_.channels, layout_.height, layout_.width, config.cnn_features));
    mlp_ = register_module("mlp", make_mlp(config.cnn_features, config.mlp, outputs, gain, 1.0));
  } else {
    mlp_ = register_module("mlp", make_mlp(static_cast<int64_t>(observation_space.size()), config.mlp, outputs, gain, 1.0));
    const auto modules = modules_of(mlp_);
    manual_ = MlpPass::supports(modules);
    if (manual_) pass_ = MlpPass(modules);
  }
}

torch::Tensor QNetworkImpl::prepare(const torch::Tensor& observations) const {
  const int64_t batch = observations.size(0);
  if (!image_) return observations.reshape({batch, -1}).to(torch::kFloat32);
  return cnn_input(to_channels_first(observations, layout_));
}

torch::Tensor QNetworkImpl::combine(const torch::Tensor& out) const {
  if (!config_.dueling) return out;
  const torch::Tensor value = out.narrow(1, 0, 1);
  const torch::Tensor advantage = out.narrow(1, 1, actions_);
  return value + advantage - advantage.mean(1, /*keepdim=*/true);
}

bool QNetworkImpl::bounds_supported() const { return !image_ && interval_bounds_supported(modules_of(mlp_)); }

torch::Tensor QNetworkImpl::certify_greedy(const torch::Tensor& observations, const torch::Tensor& radius) {
  if (!bounds_supported()) {
    throw std::invalid_argument("this Q-network cannot be bounded (needs vector observations and tanh, relu or elu)");
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor x = prepare(observations);
  const torch::Tensor greedy = forward(x).argmax(1);
  // The dueling head's first output is the state value, which every action shares.
  const torch::Tensor gaps = output_gap_bound(modules_of(mlp_), {x, radius.flatten().to(x.options())}, greedy,
                                              config_.dueling ? 1 : 0);
  return greedy_certified(gaps, greedy);
}

InferenceGraph QNetworkImpl::inference_graph(const InferenceOptions& options) const {
  using Op = GraphNode::Op;
  GraphBuilder g(observation_space_, "dqn", Space::discrete(actions_));
  GraphValue q = image_ ? g.sequential(g.sequential(g.image_input(g.observation(), layout_), cnn_), mlp_)
                          : g.sequential(g.vector_input(g.observation()), mlp_);
  if (config_.dueling) {
    // Q_j = V + A_j - mean(A) is linear in the head's [V, A]: one matrix, which every runtime
    // runs (OpenCV's DNN module cannot import the slices and mean it would otherwise take).
    torch::Tensor combine = torch::full({actions_, actions_ + 1}, -1.0f / static_cast<float>(actions_));
    combine.select(1, 0).fill_(1.0f);
    combine.narrow(1, 1, actions_).diagonal().add_(1.0f);
    q = g.linear(q, combine, torch::zeros({actions_}));
  }
  g.output("action", g.unary(Op::argmax, q));
  if (options.value) g.output("value", g.unary(Op::max_over, q));
  if (options.distribution) g.output("q_values", q);
  return g.finish();
}

torch::Tensor QNetworkImpl::forward(const torch::Tensor& input) {
  if (!manual_ || torch::GradMode::is_enabled() || !input.device().is_cpu()) {
    return combine(mlp_->forward(image_ ? cnn_->forward(input) : input));
  }
  return combine(pass_.forward(input));
}

torch::Tensor QNetworkImpl::forward_manual(const torch::Tensor& input) {
  if (!manual_) throw std::logic_error("QNetwork: no manual pass for this network");
  return combine(pass_.forward(input));
}

void QNetworkImpl::backward_manual(const torch::Tensor& q_grad) {
  if (!config_.dueling) {
    pass_.backward(q_grad, false);
    return;
  }
  // Q_j = V + A_j - mean_k A_k: dV = sum_j dQ_j, dA_k = dQ_k - mean_j dQ_j.
  const torch::Tensor value_grad = q_grad.sum(1, /*keepdim=*/true);
  const torch::Tensor advantage_grad = q_grad - q_grad.mean(1, /*keepdim=*/true);
  pass_.backward(torch::cat({value_grad, advantage_grad}, 1), false);
}

void QNetworkImpl::greedy(const float* observations, int64_t n, int64_t* actions_out) {
  torch::NoGradGuard no_grad;
  const int64_t outputs = actions_ + (config_.dueling ? 1 : 0);
  auto* first_layer = dynamic_cast<torch::nn::LinearImpl*>(mlp_->ptr(0).get());
  const int64_t in = first_layer->options.in_features();
  const bool fast = manual_ && first_layer->weight.device().is_cpu();
  torch::Tensor out;
  if (fast) {
    if (n != act_batch_) {
      act_buffers_.clear();
      for (size_t i = 0; i < mlp_->size(); ++i) {
        if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(mlp_->ptr(i).get())) {
          act_buffers_.push_back(torch::empty({n, linear->options.out_features()}));
        }
      }
      act_batch_ = n;
    }
    torch::Tensor h = torch::from_blob(const_cast<float*>(observations), {n, in}, torch::kFloat32);
    size_t layer = 0;
    for (size_t i = 0; i < mlp_->size(); ++i) {
      torch::nn::Module* m = mlp_->ptr(i).get();
      if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(m)) {
        torch::Tensor& y = act_buffers_[layer++];
        torch::addmm_out(y, linear->bias, h, linear->weight.t());
        h = y;
      } else if (dynamic_cast<torch::nn::ReLUImpl*>(m)) {
        h.relu_();
      } else {
        fast_tanh_(h);
      }
    }
    out = h;
  } else {
    const torch::Tensor obs = torch::from_blob(const_cast<float*>(observations), {n, in}, torch::kFloat32);
    out = mlp_->forward(obs.to(first_layer->weight.device())).to(torch::kCPU).contiguous();
  }
  // With a dueling head argmax Q = argmax A: V and mean(A) are the same for every action.
  const float* q = out.data_ptr<float>();
  const int64_t first = config_.dueling ? 1 : 0;
  for (int64_t row = 0; row < n; ++row) {
    const float* r = q + row * outputs + first;
    int64_t best = 0;
    for (int64_t a = 1; a < actions_; ++a) {
      if (r[a] > r[best]) best = a;
    }
    actions_out[row] = best;
  }
}

// ---------------------------------------------------------------------------------------------
// Dqn

Dqn::Dqn(const EnvSpec& spec, DqnConfig config, uint64_t seed, torch::Device device)
    : config_(std::move(config)),
      device_(device),
      observation_shape_(spec.observation_space.shape()),
      observation_dtype_(dtype_of(spec.observation_space.dtype())),
      actions_([&] {
        config_.validate();
        if (!spec.action_space.is_discrete()) {
          throw std::invalid_argument("DQN needs a Discrete action space, got " + spec.action_space.describe() +
                                      " from " + spec.id);
        }
        return spec.action_space.n();
      }()),
      generator_(at::detail::createCPUGenerator(seed)),
      q_([&] {
        // Initial weights come from LibTorch's default generator: seed it for reproducible runs.
        torch::manual_seed(seed);
        QNetwork q(spec.observation_space, actions_, config_.policy);
        q->to(device_);
        return q;
      }()),
      target_([&] {
        QNetwork t(spec.observation_space, actions_, config_.policy);
        t->to(device_);
        return t;
      }()),
      parameters_(q_->parameters()),
      target_parameters_(target_->parameters()),
      optimizer_(std::vector<torch::Tensor>{parameters_.data()},
                 torch::optim::AdamOptions(config_.learning_rate).eps(config_.adam_eps)) {
  torch::NoGradGuard no_grad;
  target_parameters_.data().detach().copy_(parameters_.data().detach());
}

uint64_t Dqn::draw() {
  std::lock_guard<std::mutex> lock(generator_.mutex());
  return generator_.get<at::CPUGeneratorImpl>()->random64();
}

void Dqn::act_random(int64_t n, int64_t* actions_out) {
  for (int64_t i = 0; i < n; ++i) {
    actions_out[i] = static_cast<int64_t>(draw() % static_cast<uint64_t>(actions_));
  }
}

void Dqn::act_epsilon(const void* observations, int64_t n, double epsilon, int64_t* actions_out) {
  constexpr double kToUnit = 1.0 / 9007199254740992.0;  // 2^-53
  bool any_greedy = false;
  for (int64_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(draw() >> 11) * kToUnit;
    if (u < epsilon) {
      actions_out[i] = static_cast<int64_t>(draw() % static_cast<uint64_t>(actions_));
    } else {
      actions_out[i] = -1;
      any_greedy = true;
    }
  }
  if (!any_greedy) return;
  // The network runs on every row (n is small); exploring rows keep their draw.
  std::vector<int64_t>& greedy = greedy_scratch_;
  greedy.resize(static_cast<size_t>(n));
  if (observation_dtype_ == torch::kFloat32 && !q_->image()) {
    q_->greedy(static_cast<const float*>(observations), n, greedy.data());
  } else {
    std::vector<int64_t> shape{n};
    shape.insert(shape.end(), observation_shape_.begin(), observation_shape_.end());
    const torch::Tensor obs = torch::from_blob(const_cast<void*>(observations), shape, observation_dtype_);
    torch::NoGradGuard no_grad;
    const torch::Tensor a = q_->forward(q_->prepare(obs.to(device_))).argmax(1).to(torch::kCPU).contiguous();
    std::copy_n(a.data_ptr<int64_t>(), n, greedy.data());
  }
  for (int64_t i = 0; i < n; ++i) {
    if (actions_out[i] < 0) actions_out[i] = greedy[static_cast<size_t>(i)];
  }
}

torch::Tensor Dqn::act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  const torch::Tensor greedy = q_->forward(q_->prepare(observations.to(device_))).argmax(1);
  const double epsilon = config_.exploration_final_eps;
  if (deterministic || epsilon <= 0) return greedy;
  const int64_t n = greedy.size(0);
  const torch::Tensor explore = torch::rand({n}, generator) < epsilon;
  const torch::Tensor random = torch::randint(actions_, {n}, generator, torch::kInt64);
  return torch::where(explore.to(greedy.device()), random.to(greedy.device()), greedy);
}

InferenceGraph Dqn::inference_graph(const InferenceOptions& options) { return q_->inference_graph(options); }

torch::Tensor Dqn::certify_actions(const torch::Tensor& observations, const torch::Tensor& radius) {
  if (!q_->bounds_supported()) return {};
  return q_->certify_greedy(observations.to(device_), radius.to(device_));
}

Agent::Outputs Dqn::differentiable_outputs(const torch::Tensor& observations) {
  const torch::AutoGradMode grad(true);
  const torch::Tensor q = q_->forward(q_->prepare(observations.to(device_, torch::kFloat32)));
  return {q, std::get<0>(q.max(1))};
}

bool Dqn::uses_manual_gradient() const {
  return config_.manual_gradient && q_->manual_supported() && device_.is_cpu();
}

torch::Tensor Dqn::td_targets(const ReplaySample& batch) {
  torch::NoGradGuard no_grad;
  const torch::Tensor next = q_->prepare(batch.next_observations.to(device_));
  const bool manual = uses_manual_gradient();
  const torch::Tensor target_q = manual ? target_->forward_manual(next) : target_->forward(next);
  torch::Tensor next_value;
  if (config_.double_q) {
    // The online network picks the action, the target network values it.
    const torch::Tensor online_q = manual ? q_->forward_manual(next) : q_->forward(next);
    next_value = target_q.gather(1, online_q.argmax(1, /*keepdim=*/true)).squeeze(1);
  } else {
    next_value = std::get<0>(target_q.max(1));
  }
  return batch.rewards.to(device_) + batch.discounts.to(device_) * next_value;
}

double Dqn::gradient_step(const ReplaySample& batch, torch::Tensor* td_abs, double* q_mean) {
  const torch::Tensor targets = td_targets(batch);
  return uses_manual_gradient() ? manual_step(batch, targets, td_abs, q_mean)
                                : autograd_step(batch, targets, td_abs, q_mean);
}

double Dqn::manual_step(const ReplaySample& batch, const torch::Tensor& targets_in, torch::Tensor* td_abs,
                        double* q_mean) {
  torch::NoGradGuard no_grad;
  const torch::Tensor q = q_->forward_manual(q_->prepare(batch.observations)).contiguous();
  const int64_t b = q.size(0), n = q.size(1);
  if (!q_grad_.defined() || q_grad_.size(0) != b) {
    q_grad_ = torch::zeros({b, n});
  } else {
    q_grad_.zero_();
  }
  const torch::Tensor actions = batch.actions.to(torch::kInt64).contiguous();
  const torch::Tensor targets = targets_in.contiguous();
  const torch::Tensor weights = batch.weights.to(torch::kFloat32).contiguous();
  const int64_t* a = actions.data_ptr<int64_t>();
  const float* y = targets.data_ptr<float>();
  const float* w = weights.data_ptr<float>();
  const float* qv = q.data_ptr<float>();
  float* g = q_grad_.data_ptr<float>();
  torch::Tensor td;
  float* td_out = nullptr;
  if (td_abs != nullptr) {
    td = torch::empty({b});
    td_out = td.data_ptr<float>();
  }
  const bool huber = config_.loss == "huber";
  double loss = 0, q_sum = 0;
  const float inv_b = 1.0f / static_cast<float>(b);
  for (int64_t i = 0; i < b; ++i) {
    const float q_sa = qv[i * n + a[i]];
    const float d = q_sa - y[i];
    const float ad = std::fabs(d);
    float l, grad;
    if (huber) {
      l = ad < 1.0f ? 0.5f * d * d : ad - 0.5f;
      grad = std::clamp(d, -1.0f, 1.0f);
    } else {
      l = d * d;
      grad = 2.0f * d;
    }
    loss += static_cast<double>(w[i] * l);
    q_sum += q_sa;
    g[i * n + a[i]] = w[i] * grad * inv_b;
    if (td_out != nullptr) td_out[i] = ad;
  }
  q_->backward_manual(q_grad_);
  clip_and_step();
  if (td_abs != nullptr) *td_abs = td;
  if (q_mean != nullptr) *q_mean = q_sum / static_cast<double>(b);
  return loss / static_cast<double>(b);
}

double Dqn::autograd_step(const ReplaySample& batch, const torch::Tensor& targets, torch::Tensor* td_abs,
                          double* q_mean) {
  const torch::Tensor q = q_->forward(q_->prepare(batch.observations.to(device_)));
  const torch::Tensor q_sa = q.gather(1, batch.actions.to(device_, torch::kInt64).unsqueeze(1)).squeeze(1);
  const torch::Tensor d = q_sa - targets;
  const torch::Tensor elementwise =
      config_.loss == "huber"
          ? torch::smooth_l1_loss(q_sa, targets, at::Reduction::None, /*beta=*/1.0)
          : d * d;
  const torch::Tensor loss = (elementwise * batch.weights.to(device_, torch::kFloat32)).mean();
  parameters_.grad().zero_();  // backward() adds into the gradients
  loss.backward();
  clip_and_step();
  if (td_abs != nullptr) *td_abs = d.detach().abs().to(torch::kCPU, torch::kFloat32);
  if (q_mean != nullptr) *q_mean = q_sa.detach().mean().item<double>();
  return loss.item<double>();
}

void Dqn::clip_and_step() {
  const torch::Tensor& param = parameters_.data();
  if (!device_.is_cpu()) {
    torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{param}, config_.max_grad_norm);
    optimizer_.step();
    return;
  }
  // The grad-norm clip folded into the fused Adam pass (no weight-sized temporaries).
  const double clip = config_.max_grad_norm / (gradient_norm(parameters_) + 1e-6);
  adam_step(parameters_, optimizer_, clip < 1.0 ? static_cast<float>(clip) : 1.0f);
}

DqnMetrics Dqn::train(ReplayBuffer& buffer, int64_t gradient_steps) {
  auto* prioritized = dynamic_cast<PrioritizedReplayBuffer*>(&buffer);
  q_->train();
  DqnMetrics m;
  for (int64_t k = 0; k < gradient_steps; ++k) {
    torch::Tensor td;
    double q_mean = 0;
    {
      const ReplaySample batch = buffer.sample(config_.batch_size, generator_, device_);
      m.loss += gradient_step(batch, prioritized != nullptr ? &td : nullptr, &q_mean);
      if (prioritized != nullptr) prioritized->update_priorities(batch.indices, td);
    }
    m.q_mean += q_mean;
    ++m.gradient_steps;
  }
  if (m.gradient_steps > 0) {
    m.loss /= static_cast<double>(m.gradient_steps);
    m.q_mean /= static_cast<double>(m.gradient_steps);
    if (!std::isfinite(m.loss)) throw std::runtime_error("DQN update: the loss became NaN or infinite");
  }
  return m;
}

void Dqn::update_target() {
  torch::NoGradGuard no_grad;
  const torch::Tensor target = target_parameters_.data().detach();
  const torch::Tensor online = parameters_.data().detach();
  if (config_.tau >= 1.0) {
    target.copy_(online);
  } else {
    target.mul_(1.0 - config_.tau).add_(online, config_.tau);
  }
}

void Dqn::save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) {
  torch::serialize::OutputArchive online, target;
  q_->save(online);
  target_->save(target);
  model.write("q", online);
  model.write("target", target);
  optimizer_.save(optimizer);
}

void Dqn::load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) {
  torch::serialize::InputArchive online, target;
  model.read("q", online);
  model.read("target", target);
  q_->load(online);
  target_->load(target);
  parameters_.rebind();  // loading may have given the parameters storage of their own
  target_parameters_.rebind();
  optimizer_.load(optimizer);
}

}  // namespace rlforge
