#include "rlforge/agents/off_policy.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "rlforge/agents/networks.h"
#include "rlforge/envs/worker_pool.h"
#include "rlforge/replay/replay_buffer.h"
#include "vector_clones.h"
#include "worker_tasks.h"

namespace rlforge {

namespace {

std::string number_text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// A number written in full ("0.1", "1e-3"), or nullopt-like NaN for anything else.
double parse_number(const std::string& s) {
  if (s.empty()) return NAN;
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    return used == s.size() ? v : NAN;
  } catch (const std::exception&) {
    return NAN;
  }
}

torch::Tensor activation_of(const std::string& name, const torch::Tensor& x) {
  if (name == "relu") return torch::relu(x);
  if (name == "tanh") return torch::tanh(x);
  if (name == "elu") return torch::elu(x);
  return torch::gelu(x);
}

}  // namespace

void OffPolicyConfig::validate() const {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  require(algo == "sac" || algo == "td3" || algo == "tqc", "algo must be sac, td3 or tqc, got " + algo);
  require(learning_rate > 0, "learning_rate must be > 0, got " + number_text(learning_rate));
  require(buffer_size > 0, "buffer_size must be > 0, got " + std::to_string(buffer_size));
  require(learning_starts >= 0, "learning_starts must be >= 0, got " + std::to_string(learning_starts));
  require(batch_size > 0, "batch_size must be > 0, got " + std::to_string(batch_size));
  require(batch_size <= buffer_size, "batch_size (" + std::to_string(batch_size) + ") is more than buffer_size (" +
                                         std::to_string(buffer_size) + ")");
  require(tau > 0 && tau <= 1, "tau must be in (0, 1], got " + number_text(tau));
  require(gamma >= 0 && gamma <= 1, "gamma must be in [0, 1], got " + number_text(gamma));
  require(train_freq > 0, "train_freq must be > 0, got " + std::to_string(train_freq));
  require(gradient_steps > 0 || gradient_steps == -1, "gradient_steps must be > 0 or -1, got " + std::to_string(gradient_steps));
  require(n_critics >= 1, "n_critics must be >= 1, got " + std::to_string(n_critics));
  require(critic_threads >= 1, "critic_threads must be >= 1, got " + std::to_string(critic_threads));
  require(target_update_interval >= 1, "target_update_interval must be >= 1, got " + std::to_string(target_update_interval));
  require(policy_delay >= 1, "policy_delay must be >= 1, got " + std::to_string(policy_delay));
  require(target_policy_noise >= 0, "target_policy_noise must be >= 0, got " + number_text(target_policy_noise));
  require(target_noise_clip >= 0, "target_noise_clip must be >= 0, got " + number_text(target_noise_clip));
  require(action_noise == "none" || action_noise == "normal" || action_noise == "ornstein_uhlenbeck",
          "action_noise must be none, normal or ornstein_uhlenbeck, got " + action_noise);
  require(action_noise_std >= 0, "action_noise_std must be >= 0, got " + number_text(action_noise_std));
  require(!use_sde || entropy_regularised(), "use_sde (gSDE) is for SAC and TQC, whose actor is stochastic; " + algo +
                                                 " explores with action_noise");
  require(!use_sde || !pi.empty(), "use_sde (gSDE) needs at least one hidden actor layer (policy.net_arch.pi)");
  require(sde_sample_freq > 0 || sde_sample_freq == -1, "sde_sample_freq must be > 0 or -1, got " + std::to_string(sde_sample_freq));
  require(std::isfinite(log_std_init), "log_std_init must be a number, got " + number_text(log_std_init));
  require(n_quantiles >= 1, "n_quantiles must be >= 1, got " + std::to_string(n_quantiles));
  require(top_quantiles_to_drop_per_net >= 0 && top_quantiles_to_drop_per_net < n_quantiles,
          "top_quantiles_to_drop_per_net must be in [0, n_quantiles), got " + std::to_string(top_quantiles_to_drop_per_net));
  require(activation == "relu" || activation == "tanh" || activation == "elu" || activation == "gelu",
          "activation must be relu, tanh, elu or gelu, got " + activation);
  for (const int64_t h : pi) require(h > 0, "pi layer sizes must be > 0, got " + std::to_string(h));
  for (const int64_t h : qf) require(h > 0, "qf layer sizes must be > 0, got " + std::to_string(h));
  const bool ent_ok = ent_coef == "auto" || (ent_coef.rfind("auto_", 0) == 0 && parse_number(ent_coef.substr(5)) > 0) ||
                      parse_number(ent_coef) >= 0;
  require(ent_ok, "ent_coef must be auto, auto_<initial value> or a number >= 0, got " + ent_coef);
  require(target_entropy == "auto" || std::isfinite(parse_number(target_entropy)),
          "target_entropy must be auto or a number, got " + target_entropy);
}

OffPolicyConfig OffPolicyConfig::defaults(const std::string& algo) {
  OffPolicyConfig c;
  c.algo = algo;
  if (algo == "td3") {
    c.learning_rate = 1e-3;
    c.pi = c.qf = {400, 300};
  }
  return c;
}

bool OffPolicyConfig::learns_ent_coef() const { return ent_coef.rfind("auto", 0) == 0; }

double OffPolicyConfig::initial_ent_coef() const {
  if (ent_coef == "auto") return 1.0;
  if (learns_ent_coef()) return parse_number(ent_coef.substr(5));
  return parse_number(ent_coef);
}

// CriticEnsemble

CriticEnsembleImpl::CriticEnsembleImpl(int64_t count, int64_t in, const std::vector<int64_t>& hidden, int64_t out,
                                       const std::string& activation)
    : count_(count), activation_(activation) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> widths{in};
  widths.insert(widths.end(), hidden.begin(), hidden.end());
  widths.push_back(out);
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    // PyTorch's nn.Linear initialisation: weights and biases uniform in +-1/sqrt(fan_in).
    const double bound = 1.0 / std::sqrt(static_cast<double>(widths[l]));
    torch::Tensor w = torch::empty({count, widths[l], widths[l + 1]}).uniform_(-bound, bound);
    torch::Tensor b = torch::empty({count, 1, widths[l + 1]}).uniform_(-bound, bound);
    weights_.push_back(register_parameter("weight" + std::to_string(l), w));
    biases_.push_back(register_parameter("bias" + std::to_string(l), b));
  }
}

torch::Tensor CriticEnsembleImpl::activate(const torch::Tensor& x) const { return activation_of(activation_, x); }

torch::Tensor CriticEnsembleImpl::forward(const torch::Tensor& x) {
  // The first layer broadcasts the shared input over the critics: [B, in] x [count, in, h].
  torch::Tensor h = torch::matmul(x, weights_[0]).add_(biases_[0]);
  for (std::size_t l = 1; l < weights_.size(); ++l) h = torch::baddbmm(biases_[l], activate(h), weights_[l]);
  return h;
}

torch::Tensor CriticEnsembleImpl::forward_one(const torch::Tensor& x, int64_t k) {
  torch::Tensor h = x;
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    if (l > 0) h = activate(h);
    h = torch::addmm(biases_[l][k], h, weights_[l][k]);
  }
  return h;
}

torch::Tensor CriticEnsembleImpl::forward_manual(const torch::Tensor& x, bool keep_inputs, int64_t critics) {
  const std::size_t layers = weights_.size();
  if (critics < 0) critics = count_;
  if (critics < 1 || critics > count_) {
    throw std::invalid_argument("CriticEnsemble::forward_manual: critics must be in [1, " + std::to_string(count_) + "], got " +
                                std::to_string(critics));
  }
  // Every layer's output for each critic run, allocated here so that the workers only write.
  std::vector<torch::Tensor> outputs(layers);
  for (std::size_t l = 0; l < layers; ++l) {
    outputs[l] = torch::empty({critics, x.size(0), weights_[l].size(2)}, x.options());
  }
  const bool tanh = activation_ == "tanh";
  for_each_index(pool_, critics, [&](int64_t k) {
    torch::Tensor h = x;
    for (std::size_t l = 0; l < layers; ++l) {
      torch::Tensor out = outputs[l][k];
      torch::addmm_out(out, biases_[l][k], h, weights_[l][k]);
      if (l + 1 < layers) tanh ? out.tanh_() : out.relu_();
      h = out;
    }
  });
  inputs_.assign(layers, torch::Tensor());
  kept_critics_ = keep_inputs ? critics : 0;
  if (keep_inputs) {
    inputs_[0] = x;
    for (std::size_t l = 1; l < layers; ++l) inputs_[l] = outputs[l - 1];
  }
  return outputs.back();
}

torch::Tensor CriticEnsembleImpl::backward_manual(const torch::Tensor& output_grad, bool weight_grads, bool input_grad) {
  const std::size_t layers = weights_.size();
  if (inputs_.empty() || !inputs_[0].defined()) {
    throw std::logic_error("CriticEnsemble::backward_manual: no forward_manual kept its inputs");
  }
  const int64_t critics = output_grad.size(0), b = output_grad.size(1);
  if (critics != kept_critics_ || (weight_grads && critics != count_)) {
    throw std::logic_error("CriticEnsemble::backward_manual: " + std::to_string(critics) +
                           " critics' gradients for a forward_manual of " + std::to_string(kept_critics_) +
                           (weight_grads ? " (weight gradients need all " + std::to_string(count_) + ")" : std::string()));
  }
  // What the workers write, allocated here: the gradients of every hidden layer's output and of
  // the input, and the parameters' gradients (overwritten).
  std::vector<torch::Tensor> hidden_grads(layers);
  for (std::size_t l = 1; l < layers; ++l) {
    hidden_grads[l] = torch::empty({critics, b, weights_[l].size(1)}, output_grad.options());
  }
  const torch::Tensor in_grads =
      input_grad ? torch::empty({critics, b, weights_[0].size(1)}, output_grad.options()) : torch::Tensor();
  if (weight_grads) {
    for (std::size_t l = 0; l < layers; ++l) {
      if (!weights_[l].grad().defined()) weights_[l].mutable_grad() = torch::empty_like(weights_[l]);
      if (!biases_[l].grad().defined()) biases_[l].mutable_grad() = torch::empty_like(biases_[l]);
    }
  }
  const bool tanh = activation_ == "tanh";
  for_each_index(pool_, critics, [&](int64_t k) {
    // g: dLoss/d(layer l's output before its activation), from the last layer down.
    torch::Tensor g = output_grad[k];
    for (std::size_t l = layers; l-- > 0;) {
      // The first layer's input [B, in] is shared by the critics.
      const torch::Tensor input = l == 0 ? inputs_[0] : inputs_[l][k];
      if (weight_grads) {
        torch::Tensor weight_grad = weights_[l].grad()[k], bias_grad = biases_[l].grad()[k];
        torch::mm_out(weight_grad, input.t(), g);
        torch::sum_out(bias_grad, g, {0}, /*keepdim=*/true);
      }
      if (l == 0) {
        if (input_grad) {
          torch::Tensor in_grad = in_grads[k];
          torch::mm_out(in_grad, g, weights_[0][k].t());
        }
        break;
      }
      torch::Tensor back = hidden_grads[l][k];
      torch::mm_out(back, g, weights_[l][k].t());
      // Through the activation, in place: relu's gate or tanh's 1 - tanh^2 of its output.
      tanh ? torch::tanh_backward_out(back, back, input) : torch::threshold_backward_out(back, back, input, 0);
      g = back;
    }
  });
  return input_grad ? in_grads.sum(0) : torch::Tensor();
}

// OffPolicyActor

OffPolicyActorImpl::OffPolicyActorImpl(int64_t in, int64_t actions, const std::vector<int64_t>& hidden,
                                       const std::string& activation, bool stochastic, bool sde, double log_std_init)
    : actions_(actions), stochastic_(stochastic), sde_(sde && stochastic) {
  const MlpConfig mlp{hidden, activation, /*ortho_init=*/false};
  const bool two_heads = stochastic_ && !sde_;
  net_ = register_module("net", make_mlp(in, mlp, two_heads ? 2 * actions : actions, 1.0, 1.0));
  if (sde_) {
    if (hidden.empty()) throw std::invalid_argument("gSDE needs at least one hidden actor layer");
    log_std_ = register_parameter("sde_log_std", torch::full({hidden.back(), actions}, log_std_init));
  }
}

torch::Tensor OffPolicyActorImpl::features(const torch::Tensor& x) {
  torch::Tensor h = x;
  const auto last = std::prev(net_->end());
  for (auto it = net_->begin(); it != last; ++it) h = it->forward(h);
  return h;
}

torch::Tensor OffPolicyActorImpl::head(const torch::Tensor& features) { return std::prev(net_->end())->forward(features); }

std::pair<torch::Tensor, torch::Tensor> OffPolicyActorImpl::split(const torch::Tensor& output) const {
  if (sde_) return {torch::clamp(output, -kSdeClipMean, kSdeClipMean), torch::Tensor()};
  const torch::Tensor mean = output.narrow(1, 0, actions_);
  if (!stochastic_) return {mean, torch::Tensor()};
  return {mean, torch::clamp(output.narrow(1, actions_, actions_), -20.0, 2.0)};
}

// Free functions

SquashedSample squashed_gaussian(const torch::Tensor& mean, const torch::Tensor& log_std, const torch::Tensor& noise) {
  static const double kHalfLog2Pi = 0.5 * std::log(2.0 * M_PI);
  const torch::Tensor u = mean + log_std.exp() * noise;
  const torch::Tensor action = torch::tanh(u);
  // log N(u; mean, std) per element is -noise^2 / 2 - log_std - log(2 pi) / 2.
  const torch::Tensor gaussian = (-0.5 * noise.square() - log_std - kHalfLog2Pi).sum(-1);
  const torch::Tensor jacobian = torch::log(1.0 - action.square() + 1e-6).sum(-1);
  return {action, gaussian - jacobian};
}

SquashedSample squashed_sde(const torch::Tensor& mean, const torch::Tensor& features, const torch::Tensor& log_std,
                            const torch::Tensor& weights) {
  static const double kHalfLog2Pi = 0.5 * std::log(2.0 * M_PI);
  const torch::Tensor noise =
      weights.dim() == 2 ? torch::mm(features, weights) : torch::bmm(features.unsqueeze(1), weights).squeeze(1);
  const torch::Tensor action = torch::tanh(mean + noise);
  const torch::Tensor variance = torch::mm(features.square(), (2.0 * log_std).exp()) + 1e-6;
  const torch::Tensor gaussian = (-0.5 * noise.square() / variance - 0.5 * variance.log() - kHalfLog2Pi).sum(-1);
  const torch::Tensor jacobian = torch::log(1.0 - action.square() + 1e-6).sum(-1);
  return {action, gaussian - jacobian};
}

torch::Tensor quantile_huber_loss(const torch::Tensor& quantiles, const torch::Tensor& targets) {
  const int64_t q = quantiles.size(-1);
  // [B, N, Q, K]: every target atom against every predicted quantile.
  const torch::Tensor delta = targets.unsqueeze(1).unsqueeze(1) - quantiles.unsqueeze(-1);
  const torch::Tensor abs = delta.abs();
  const torch::Tensor huber = torch::where(abs > 1.0, abs - 0.5, 0.5 * delta.square());
  const torch::Tensor tau =
      ((torch::arange(q, quantiles.options()) + 0.5) / static_cast<double>(q)).view({1, 1, q, 1});
  return ((tau - (delta.detach() < 0).to(quantiles.scalar_type())).abs() * huber).mean();
}

namespace {

// One critic's share of quantile_huber_loss_backward: rows `z` [B, Q] against `y` [B, K]; writes
// the gradient rows and returns the summed loss. Atoms outside, quantiles inside: each
// quantile's sums are independent lanes the compiler vectorises, and each still adds its atoms in
// order, so the numbers are those of the loop the other way round. With contraction off every
// clone gives those numbers too.
RLFORGE_VECTOR_CLONES double quantile_huber_rows(const float* __restrict z,
                                                 const float* __restrict y, int64_t b, int64_t q,
                                                 int64_t k, double scale, float* __restrict grad) {
#ifdef __clang__
#pragma clang fp contract(off)
#endif
  std::vector<float> buffers(static_cast<std::size_t>(3 * q));
  float* __restrict fraction = buffers.data();
  float* __restrict loss = fraction + q;
  float* __restrict slope = loss + q;
  for (int64_t j = 0; j < q; ++j)
    fraction[j] = (static_cast<float>(j) + 0.5f) / static_cast<float>(q);
  double total = 0;
  for (int64_t s = 0; s < b; ++s) {
    const float* atoms = y + s * k;
    const float* z_row = z + s * q;
    std::fill(loss, loss + q, 0.0f);
    std::fill(slope, slope + q, 0.0f);
    for (int64_t t = 0; t < k; ++t) {
      const float atom = atoms[t];
      for (int64_t j = 0; j < q; ++j) {
        const float delta = atom - z_row[j];
        const float a = std::fabs(delta);
        // |tau - 1{delta < 0}| weighs the Huber loss and its slope clamp(delta, -1, 1).
        const float w = delta < 0 ? 1.0f - fraction[j] : fraction[j];
        loss[j] += w * (a > 1.0f ? a - 0.5f : 0.5f * delta * delta);
        slope[j] += w * std::clamp(delta, -1.0f, 1.0f);
      }
    }
    float* g_row = grad + s * q;
    for (int64_t j = 0; j < q; ++j) {
      total += loss[j];
      g_row[j] = static_cast<float>(-slope[j] * scale);
    }
  }
  return total;
}

}  // namespace

double quantile_huber_loss_backward(const torch::Tensor& quantiles, const torch::Tensor& targets, torch::Tensor& grad,
                                    WorkerPool* pool) {
  const torch::Tensor z = quantiles.to(torch::kCPU, torch::kFloat32).contiguous();
  const torch::Tensor y = targets.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t n = z.size(0), b = z.size(1), q = z.size(2), k = y.size(1);
  grad = torch::empty_like(z);
  const float* zp = z.data_ptr<float>();
  const float* yp = y.data_ptr<float>();
  float* gp = grad.data_ptr<float>();
  const double scale = 1.0 / static_cast<double>(n * b * q * k);
  // One critic per task; their losses are added in critic order whichever thread ran them.
  std::vector<double> totals(static_cast<std::size_t>(n), 0.0);
  for_each_index(pool, n, [&](int64_t i) {
    totals[static_cast<std::size_t>(i)] =
        quantile_huber_rows(zp + i * b * q, yp, b, q, k, scale, gp + i * b * q);
  });
  double total = 0;
  for (const double t : totals) total += t;
  grad = grad.to(quantiles.device());
  return total * scale;
}

torch::Tensor truncated_quantiles(const torch::Tensor& quantiles, int64_t drop_per_net) {
  const int64_t n = quantiles.size(0), b = quantiles.size(1), q = quantiles.size(2);
  const torch::Tensor pooled = std::get<0>(torch::sort(quantiles.permute({1, 0, 2}).reshape({b, n * q}), /*dim=*/1));
  return pooled.narrow(1, 0, n * q - drop_per_net * n);
}

void polyak_update(const torch::Tensor& target, const torch::Tensor& online, double tau) {
  torch::NoGradGuard no_grad;
  if (tau >= 1.0) {
    target.detach().copy_(online.detach());
  } else {
    target.detach().lerp_(online.detach(), tau);
  }
}

// OffPolicyAgent

OffPolicyAgent::OffPolicyAgent(const EnvSpec& spec, OffPolicyConfig config, uint64_t seed, torch::Device device)
    : config_(std::move(config)), device_(device), generator_(at::detail::createCPUGenerator(seed)) {
  config_.validate();
  const Space& actions = spec.action_space;
  if (actions.is_discrete() || actions.shape().size() != 1) {
    throw std::invalid_argument(config_.algo + " needs a one-dimensional Box action space, got " + actions.describe() +
                                " from " + spec.id);
  }
  const Space& obs = spec.observation_space;
  if (obs.is_discrete() || obs.dtype() != DType::Float32) {
    throw std::invalid_argument(config_.algo + " needs float (vector) observations, got " + obs.describe() + " from " +
                                spec.id);
  }
  observation_space_ = obs;
  action_space_ = actions;
  observation_dim_ = 1;
  for (const int64_t d : obs.shape()) observation_dim_ *= d;
  action_dim_ = actions.shape()[0];
  std::vector<float> scale, bias;
  for (int64_t i = 0; i < action_dim_; ++i) {
    const float lo = actions.low()[static_cast<std::size_t>(i)], hi = actions.high()[static_cast<std::size_t>(i)];
    if (!std::isfinite(lo) || !std::isfinite(hi)) {
      throw std::invalid_argument(config_.algo + " squashes actions into the action space's bounds; " + spec.id +
                                  " has unbounded actions " + actions.describe());
    }
    scale.push_back(0.5f * (hi - lo));
    bias.push_back(0.5f * (hi + lo));
  }
  action_scale_ = torch::tensor(scale).to(device_);
  action_bias_ = torch::tensor(bias).to(device_);

  // Initial weights come from LibTorch's default generator: seed it for reproducible runs.
  torch::manual_seed(seed);
  const bool stochastic = config_.entropy_regularised();
  const int64_t q_out = config_.distributional() ? config_.n_quantiles : 1;
  const int64_t q_in = observation_dim_ + action_dim_;
  actor_ = OffPolicyActor(observation_dim_, action_dim_, config_.pi, config_.activation, stochastic, config_.use_sde,
                          config_.log_std_init);
  critic_ = CriticEnsemble(config_.n_critics, q_in, config_.qf, q_out, config_.activation);
  critic_target_ = CriticEnsemble(config_.n_critics, q_in, config_.qf, q_out, config_.activation);
  actor_->to(device_);
  critic_->to(device_);
  critic_target_->to(device_);
  actor_parameters_ = std::make_unique<FlatParameters>(actor_->parameters());
  critic_parameters_ = std::make_unique<FlatParameters>(critic_->parameters());
  critic_target_parameters_ = std::make_unique<FlatParameters>(critic_target_->parameters());
  polyak_update(critic_target_parameters_->data(), critic_parameters_->data(), 1.0);
  if (!stochastic) {
    actor_target_ = OffPolicyActor(observation_dim_, action_dim_, config_.pi, config_.activation, false);
    actor_target_->to(device_);
    actor_target_parameters_ = std::make_unique<FlatParameters>(actor_target_->parameters());
    polyak_update(actor_target_parameters_->data(), actor_parameters_->data(), 1.0);
  }
  const auto adam = torch::optim::AdamOptions(config_.learning_rate).eps(config_.adam_eps);
  actor_optimizer_ = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{actor_parameters_->data()}, adam);
  critic_optimizer_ = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{critic_parameters_->data()}, adam);
  log_ent_coef_ = torch::full({1}, std::log(std::max(config_.initial_ent_coef(), 1e-30)),
                              torch::TensorOptions().device(device_));
  if (stochastic && config_.learns_ent_coef()) {
    log_ent_coef_.set_requires_grad(true);
    ent_coef_optimizer_ = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{log_ent_coef_}, adam);
  }
  const auto actor_modules = modules_of(actor_->net());
  manual_ = config_.manual_gradient && device_.is_cpu() && critic_->manual_supported() && MlpPass::supports(actor_modules);
  manual_actor_ = manual_ && !actor_->sde();
  if (manual_actor_) actor_pass_ = MlpPass(actor_modules);
  const int64_t critic_threads = std::min(config_.critic_threads, config_.n_critics);
  if (manual_ && critic_threads > 1) {
    critic_pool_ = std::make_unique<WorkerPool>(static_cast<int>(critic_threads));
    critic_->set_workers(critic_pool_.get());
    critic_target_->set_workers(critic_pool_.get());
  }
  target_entropy_ = config_.target_entropy == "auto" ? -static_cast<double>(action_dim_)
                                                      : parse_number(config_.target_entropy);
}

OffPolicyAgent::~OffPolicyAgent() = default;

int OffPolicyAgent::critic_threads() const { return critic_pool_ ? critic_pool_->workers() : 1; }

double OffPolicyAgent::ent_coef() const {
  if (!config_.entropy_regularised()) return 0.0;
  return std::exp(log_ent_coef_.item<double>());
}

void OffPolicyAgent::set_learning_rate(double lr) {
  for (auto* optimizer : {actor_optimizer_.get(), critic_optimizer_.get(), ent_coef_optimizer_.get()}) {
    if (optimizer == nullptr) continue;
    for (auto& group : optimizer->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

torch::Tensor OffPolicyAgent::prepare(const torch::Tensor& observations) const {
  return observations.to(device_, torch::kFloat32).reshape({observations.size(0), observation_dim_});
}

torch::Tensor OffPolicyAgent::critic_input(const torch::Tensor& obs, const torch::Tensor& actions) const {
  return torch::cat({obs, actions}, 1);
}

torch::Tensor OffPolicyAgent::standard_normal(int64_t rows) {
  // Drawn on the CPU from the agent's generator and moved: the same numbers on every device.
  return torch::randn({rows, action_dim_}, generator_, torch::kFloat32).to(device_);
}

torch::Tensor OffPolicyAgent::act_scaled(const torch::Tensor& observations, bool deterministic,
                                         torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  const torch::Tensor obs = prepare(observations);
  if (actor_->sde() && !deterministic) {
    const torch::Tensor features = actor_->features(obs);
    const torch::Tensor mean = actor_->split(actor_->head(features)).first;
    if (!exploration_.defined() || exploration_.size(0) != obs.size(0)) reset_exploration(obs.size(0), generator);
    return squashed_sde(mean, features, actor_->sde_log_std(), exploration_).action;
  }
  auto [mean, log_std] = actor_->split(actor_->forward(obs));
  if (deterministic || !config_.entropy_regularised()) return torch::tanh(mean);
  const torch::Tensor noise = torch::randn({obs.size(0), action_dim_}, generator, torch::kFloat32).to(device_);
  return squashed_gaussian(mean, log_std, noise).action;
}

void OffPolicyAgent::reset_exploration(int64_t rows, torch::Generator& generator) {
  if (!actor_->sde()) return;
  torch::NoGradGuard no_grad;
  const torch::Tensor& log_std = actor_->sde_log_std();
  // Drawn on the CPU and moved, as the other noise: the same numbers on every device.
  exploration_ = torch::randn({rows, log_std.size(0), log_std.size(1)}, generator, torch::kFloat32).to(device_) *
                 log_std.detach().exp();
}

void OffPolicyAgent::draw_training_exploration() {
  if (!actor_->sde()) return;
  const torch::Tensor& log_std = actor_->sde_log_std();
  // Built with autograd on, so that the actor's loss reaches log_std through it.
  training_exploration_ =
      torch::randn({log_std.size(0), log_std.size(1)}, generator_, torch::kFloat32).to(device_) * log_std.exp();
}

torch::Tensor OffPolicyAgent::to_env_actions(const torch::Tensor& scaled) const {
  return scaled * action_scale_ + action_bias_;
}

torch::Tensor OffPolicyAgent::act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) {
  return to_env_actions(act_scaled(observations, deterministic, generator));
}

Agent::Outputs OffPolicyAgent::differentiable_outputs(const torch::Tensor& observations) {
  const torch::AutoGradMode grad(true);
  const torch::Tensor obs = prepare(observations);
  const torch::Tensor scaled = actor_->deterministic(obs);
  // The first critic's estimate (the mean over its quantiles for TQC) of the action taken.
  const torch::Tensor q = critic_->forward_one(critic_input(obs, scaled), 0);
  return {to_env_actions(scaled), q.mean(-1)};
}

InferenceGraph OffPolicyAgent::inference_graph(const InferenceOptions& options) {
  using Op = GraphNode::Op;
  if (options.value) {
    throw std::invalid_argument(config_.algo + "'s critics take the action as an input: there is no value output to export");
  }
  GraphBuilder g(observation_space_, config_.algo, action_space_);
  const GraphValue out = g.sequential(g.vector_input(g.observation()), actor_->net());
  const bool stochastic = config_.entropy_regularised();
  const GraphValue mean = actor_->sde()  ? g.clip(out, -OffPolicyActorImpl::kSdeClipMean, OffPolicyActorImpl::kSdeClipMean)
                          : stochastic ? g.slice(out, 1, 0, action_dim_)
                                       : out;
  const GraphValue scaled = g.unary(Op::tanh, mean);
  g.output("action", g.with_constant(Op::add, g.with_constant(Op::mul, scaled, action_scale_), action_bias_));
  if (options.distribution) {
    g.output("mean", mean);
    // gSDE's spread depends on the state and on exploration weights drawn while acting: there is
    // no one log-std to export.
    if (stochastic && !actor_->sde()) g.output("log_std", g.clip(g.slice(out, 1, action_dim_, action_dim_), -20.0, 2.0));
  }
  return g.finish();
}

torch::Tensor OffPolicyAgent::td_targets(const ReplaySample& batch) {
  torch::NoGradGuard no_grad;
  const torch::Tensor next_obs = prepare(batch.next_observations);
  const int64_t b = next_obs.size(0);
  torch::Tensor next_actions, next_log_prob;
  if (config_.entropy_regularised()) {
    // Not actor_output() without gSDE: its hand-derived pass keeps what the actor's gradient
    // needs for this step's own observations.
    const SquashedSample s =
        sample_actions(actor_->sde() ? actor_output(next_obs) : ActorOutput{actor_->forward(next_obs), {}});
    next_actions = s.action;
    next_log_prob = s.log_prob;
  } else {
    // Target policy smoothing: clipped Gaussian noise on the target actor's action.
    const torch::Tensor noise =
        (standard_normal(b) * config_.target_policy_noise).clamp(-config_.target_noise_clip, config_.target_noise_clip);
    next_actions = (actor_target_->deterministic(next_obs) + noise).clamp(-1.0, 1.0);
  }
  const torch::Tensor next_x = critic_input(next_obs, next_actions);
  const torch::Tensor next_q =
      manual_ ? critic_target_->forward_manual(next_x, /*keep_inputs=*/false) : critic_target_->forward(next_x);  // [N, B, out]
  const torch::Tensor rewards = batch.rewards.to(device_);
  const torch::Tensor discounts = batch.discounts.to(device_);
  if (config_.distributional()) {
    const torch::Tensor atoms = truncated_quantiles(next_q, config_.top_quantiles_to_drop_per_net);
    return rewards.unsqueeze(1) + discounts.unsqueeze(1) * (atoms - ent_coef() * next_log_prob.unsqueeze(1));
  }
  torch::Tensor value = std::get<0>(next_q.squeeze(-1).min(0));
  if (config_.entropy_regularised()) value = value - ent_coef() * next_log_prob;
  return rewards + discounts * value;
}

torch::Tensor OffPolicyAgent::critic_loss(const torch::Tensor& q, const torch::Tensor& targets) const {
  if (config_.distributional()) return quantile_huber_loss(q.permute({1, 0, 2}), targets);
  // The sum over critics of each one's mean squared error (SAC halves it, as SB3).
  const torch::Tensor per_critic = (q.squeeze(-1) - targets.unsqueeze(0)).square().mean(1);
  return per_critic.sum() * (config_.algo == "sac" ? 0.5 : 1.0);
}

double OffPolicyAgent::critic_gradient(const ReplaySample& batch, const torch::Tensor& targets, double* q_mean) {
  const torch::Tensor x = critic_input(prepare(batch.observations), batch.actions.to(device_));
  critic_parameters_->grad().zero_();
  torch::Tensor q, loss;
  if (manual_ && config_.distributional()) {
    // TQC's loss pairs every quantile with every target atom: by hand, in one pass.
    torch::NoGradGuard no_grad;
    q = critic_->forward_manual(x);
    torch::Tensor q_grad;
    const double value = quantile_huber_loss_backward(q, targets, q_grad, critic_pool_.get());
    critic_->backward_manual(q_grad, /*weight_grads=*/true, /*input_grad=*/false);
    if (q_mean != nullptr) *q_mean = q.mean().item<double>();
    return value;
  }
  if (manual_) {
    // The networks by hand, the loss (a few ops on [N, B, 1]) by autograd from a leaf.
    {
      torch::NoGradGuard no_grad;
      q = critic_->forward_manual(x).requires_grad_(true);
    }
    loss = critic_loss(q, targets);
    loss.backward();
    torch::NoGradGuard no_grad;
    critic_->backward_manual(q.grad(), /*weight_grads=*/true, /*input_grad=*/false);
  } else {
    q = critic_->forward(x);  // [N, B, out]
    loss = critic_loss(q, targets);
    loss.backward({}, /*retain_graph=*/false, /*create_graph=*/false, critic_->parameters());
  }
  if (q_mean != nullptr) *q_mean = q.detach().mean().item<double>();
  return loss.item<double>();
}

OffPolicyAgent::ActorOutput OffPolicyAgent::actor_output(const torch::Tensor& obs) {
  if (actor_->sde()) {
    // SB3's learn_features=False: the noise and the spread do not train the features.
    const torch::Tensor features = actor_->features(obs);
    return {actor_->head(features), features.detach()};
  }
  if (!manual_actor_) return {actor_->forward(obs), {}};
  torch::NoGradGuard no_grad;
  return {actor_pass_.forward(obs).requires_grad_(true), {}};
}

SquashedSample OffPolicyAgent::sample_actions(const ActorOutput& actor) {
  auto [mean, log_std] = actor_->split(actor.out);
  if (actor_->sde()) return squashed_sde(mean, actor.features, actor_->sde_log_std(), training_exploration_);
  return squashed_gaussian(mean, log_std, standard_normal(actor.out.size(0)));
}

double OffPolicyAgent::actor_gradient(const torch::Tensor& obs, const ActorOutput& actor, const SquashedSample* sample) {
  // SAC and TQC act with the sample drawn before the critics' step; TD3 deterministically.
  const torch::Tensor actions = sample != nullptr ? sample->action : torch::tanh(actor_->split(actor.out).first);
  const torch::Tensor x = critic_input(obs, manual_ ? actions.detach() : actions);
  torch::Tensor q;
  if (manual_) {
    torch::NoGradGuard no_grad;
    // TD3 learns from the first critic only: the second's passes would add exact zeros.
    q = critic_->forward_manual(x, /*keep_inputs=*/true, sample != nullptr ? -1 : 1).requires_grad_(true);
  } else {
    q = sample != nullptr ? critic_->forward(x) : critic_->forward_one(x, 0).unsqueeze(0);
  }
  torch::Tensor loss;
  if (sample != nullptr) {
    // SAC: the smallest critic; TQC: the mean of every quantile of every critic.
    const torch::Tensor value = config_.distributional() ? q.mean(2).mean(0) : std::get<0>(q.squeeze(-1).min(0));
    loss = (ent_coef() * sample->log_prob - value).mean();
  } else {
    loss = -q[0].mean();  // TD3: the first critic
  }
  actor_parameters_->grad().zero_();
  if (manual_) {
    // Autograd takes the loss to the critics' outputs and (through the log-probability) to the
    // actor's output; the critics' input gradient, by hand, carries the rest through the
    // actions to the actor's output; the actor's pass by hand from there.
    loss.backward({}, /*retain_graph=*/true);
    torch::Tensor action_grad;
    {
      torch::NoGradGuard no_grad;
      action_grad = critic_->backward_manual(q.grad(), /*weight_grads=*/false, /*input_grad=*/true)
                        .narrow(1, observation_dim_, action_dim_);
    }
    actions.backward(action_grad);
    // Under gSDE autograd has carried both into the actor's parameters already.
    if (manual_actor_) {
      torch::NoGradGuard no_grad;
      actor_pass_.backward(actor.out.grad(), /*input_grad=*/false);
    }
  } else {
    // Only the actor's gradients: autograd skips the critics' weight gradients altogether.
    loss.backward({}, false, false, actor_->parameters());
  }
  return loss.item<double>();
}

std::pair<torch::Tensor, torch::Tensor> OffPolicyAgent::loss_gradients(const ReplaySample& batch) {
  const torch::Tensor obs = prepare(batch.observations);
  draw_training_exploration();
  const ActorOutput actor = actor_output(obs);
  SquashedSample sample;
  if (config_.entropy_regularised()) sample = sample_actions(actor);
  critic_gradient(batch, td_targets(batch), nullptr);
  // For TD3 the critics' step would come first; here they are as they were.
  actor_gradient(obs, actor, config_.entropy_regularised() ? &sample : nullptr);
  return {critic_parameters_->grad().clone(), actor_parameters_->grad().clone()};
}

void OffPolicyAgent::gradient_step(const ReplaySample& batch, OffPolicyMetrics& m) {
  ++updates_;
  const torch::Tensor obs = prepare(batch.observations);
  if (config_.entropy_regularised()) {
    // The actor's sample comes first (SB3's order): the temperature learns from it, and the
    // actor's loss reuses it once the critics have taken their step.
    draw_training_exploration();
    const ActorOutput actor = actor_output(obs);
    const SquashedSample sample = sample_actions(actor);
    if (ent_coef_optimizer_) {
      const torch::Tensor loss = -(log_ent_coef_ * (sample.log_prob.detach() + target_entropy_)).mean();
      ent_coef_optimizer_->zero_grad();
      loss.backward();
    }
    m.ent_coef += ent_coef();  // the coefficient this step uses, before the temperature's update
    double q_mean = 0;
    m.critic_loss += critic_gradient(batch, td_targets(batch), &q_mean);
    adam_step(*critic_parameters_, *critic_optimizer_, 1.0f, critic_pool_.get());
    m.q_mean += q_mean;
    m.actor_loss += actor_gradient(obs, actor, &sample);
    adam_step(*actor_parameters_, *actor_optimizer_, 1.0f, critic_pool_.get());
    ++m.actor_updates;
    // The temperature steps last so that this step's targets and losses all used the same one.
    if (ent_coef_optimizer_) ent_coef_optimizer_->step();
    if (updates_ % config_.target_update_interval == 0) {
      polyak_update(critic_target_parameters_->data(), critic_parameters_->data(), config_.tau);
    }
  } else {
    double q_mean = 0;
    m.critic_loss += critic_gradient(batch, td_targets(batch), &q_mean);
    adam_step(*critic_parameters_, *critic_optimizer_, 1.0f, critic_pool_.get());
    m.q_mean += q_mean;
    if (updates_ % config_.policy_delay == 0) {
      m.actor_loss += actor_gradient(obs, actor_output(obs), nullptr);
      adam_step(*actor_parameters_, *actor_optimizer_, 1.0f, critic_pool_.get());
      ++m.actor_updates;
      polyak_update(critic_target_parameters_->data(), critic_parameters_->data(), config_.tau);
      polyak_update(actor_target_parameters_->data(), actor_parameters_->data(), config_.tau);
    }
  }
  ++m.gradient_steps;
}

OffPolicyMetrics OffPolicyAgent::train(ReplayBuffer& buffer, int64_t gradient_steps) {
  OffPolicyMetrics m;
  for (int64_t k = 0; k < gradient_steps; ++k) {
    const ReplaySample batch = buffer.sample(config_.batch_size, generator_, device_);
    gradient_step(batch, m);
  }
  if (m.gradient_steps > 0) {
    const double n = static_cast<double>(m.gradient_steps);
    m.critic_loss /= n;
    m.q_mean /= n;
    m.ent_coef /= n;
    if (m.actor_updates > 0) m.actor_loss /= static_cast<double>(m.actor_updates);
    if (!std::isfinite(m.critic_loss) || !std::isfinite(m.actor_loss)) {
      throw std::runtime_error(config_.algo + " update: a loss became NaN or infinite");
    }
  }
  return m;
}

namespace {

// A module or an optimiser as a named sub-archive.
template <class Part>
void write_part(torch::serialize::OutputArchive& archive, const char* name, Part& part) {
  torch::serialize::OutputArchive sub;
  part.save(sub);
  archive.write(name, sub);
}
template <class Part>
void read_part(torch::serialize::InputArchive& archive, const char* name, Part& part) {
  torch::serialize::InputArchive sub;
  archive.read(name, sub);
  part.load(sub);
}

}  // namespace

void OffPolicyAgent::save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) {
  write_part(model, "actor", *actor_);
  write_part(model, "critic", *critic_);
  write_part(model, "critic_target", *critic_target_);
  if (actor_target_) write_part(model, "actor_target", *actor_target_);
  model.write("log_ent_coef", log_ent_coef_.detach());
  model.write("updates", torch::tensor(updates_));
  // gSDE's exploration matrices, drawn every round: a resumed run acts as the original would.
  if (actor_->sde()) model.write("sde_exploration", exploration_.defined() ? exploration_ : torch::zeros({0}));
  write_part(optimizer, "actor", *actor_optimizer_);
  write_part(optimizer, "critic", *critic_optimizer_);
  if (ent_coef_optimizer_) write_part(optimizer, "ent_coef", *ent_coef_optimizer_);
}

void OffPolicyAgent::load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) {
  read_part(model, "actor", *actor_);
  read_part(model, "critic", *critic_);
  read_part(model, "critic_target", *critic_target_);
  if (actor_target_) read_part(model, "actor_target", *actor_target_);
  // Loading may have given the parameters storage of their own.
  for (auto* flat : {actor_parameters_.get(), critic_parameters_.get(), critic_target_parameters_.get(),
                     actor_target_parameters_.get()}) {
    if (flat != nullptr) flat->rebind();
  }
  torch::Tensor log_ent_coef, updates;
  model.read("log_ent_coef", log_ent_coef);
  model.read("updates", updates);
  {
    torch::NoGradGuard no_grad;
    log_ent_coef_.copy_(log_ent_coef.to(device_));
  }
  updates_ = updates.item<int64_t>();
  torch::Tensor exploration;
  if (actor_->sde() && model.try_read("sde_exploration", exploration)) {
    exploration_ = exploration.numel() > 0 ? exploration.to(device_) : torch::Tensor();
  }
  read_part(optimizer, "actor", *actor_optimizer_);
  read_part(optimizer, "critic", *critic_optimizer_);
  if (ent_coef_optimizer_) read_part(optimizer, "ent_coef", *ent_coef_optimizer_);
}

}  // namespace rlforge
