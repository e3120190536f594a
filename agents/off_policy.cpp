#include "rlforge/agents/off_policy.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "rlforge/agents/networks.h"
#include "rlforge/replay/replay_buffer.h"

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
  require(target_update_interval >= 1, "target_update_interval must be >= 1, got " + std::to_string(target_update_interval));
  require(policy_delay >= 1, "policy_delay must be >= 1, got " + std::to_string(policy_delay));
  require(target_policy_noise >= 0, "target_policy_noise must be >= 0, got " + number_text(target_policy_noise));
  require(target_noise_clip >= 0, "target_noise_clip must be >= 0, got " + number_text(target_noise_clip));
  require(action_noise == "none" || action_noise == "normal" || action_noise == "ornstein_uhlenbeck",
          "action_noise must be none, normal or ornstein_uhlenbeck, got " + action_noise);
  require(action_noise_std >= 0, "action_noise_std must be >= 0, got " + number_text(action_noise_std));
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

// OffPolicyActor

OffPolicyActorImpl::OffPolicyActorImpl(int64_t in, int64_t actions, const std::vector<int64_t>& hidden,
                                       const std::string& activation, bool stochastic) {
  const MlpConfig mlp{hidden, activation, /*ortho_init=*/false};
  trunk_ = register_module("trunk", make_mlp_trunk(in, mlp, 1.0));
  const int64_t width = hidden.empty() ? in : hidden.back();
  mean_ = register_module("mean", make_linear(width, actions, 1.0, /*ortho=*/false));
  if (stochastic) log_std_ = register_module("log_std", make_linear(width, actions, 1.0, /*ortho=*/false));
}

std::pair<torch::Tensor, torch::Tensor> OffPolicyActorImpl::forward(const torch::Tensor& x) {
  const torch::Tensor latent = trunk_->is_empty() ? x : trunk_->forward(x);
  torch::Tensor log_std;
  if (!log_std_.is_empty()) log_std = torch::clamp(log_std_->forward(latent), -20.0, 2.0);
  return {mean_->forward(latent), log_std};
}

torch::Tensor OffPolicyActorImpl::deterministic(const torch::Tensor& x) { return torch::tanh(forward(x).first); }

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
  actor_ = OffPolicyActor(observation_dim_, action_dim_, config_.pi, config_.activation, stochastic);
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
  target_entropy_ = config_.target_entropy == "auto" ? -static_cast<double>(action_dim_)
                                                      : parse_number(config_.target_entropy);
}

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
  auto [mean, log_std] = actor_->forward(obs);
  if (deterministic || !config_.entropy_regularised()) return torch::tanh(mean);
  const torch::Tensor noise = torch::randn({obs.size(0), action_dim_}, generator, torch::kFloat32).to(device_);
  return squashed_gaussian(mean, log_std, noise).action;
}

torch::Tensor OffPolicyAgent::to_env_actions(const torch::Tensor& scaled) const {
  return scaled * action_scale_ + action_bias_;
}

torch::Tensor OffPolicyAgent::act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) {
  return to_env_actions(act_scaled(observations, deterministic, generator));
}

torch::Tensor OffPolicyAgent::td_targets(const ReplaySample& batch) {
  torch::NoGradGuard no_grad;
  const torch::Tensor next_obs = prepare(batch.next_observations);
  const int64_t b = next_obs.size(0);
  torch::Tensor next_actions, next_log_prob;
  if (config_.entropy_regularised()) {
    auto [mean, log_std] = actor_->forward(next_obs);
    const SquashedSample s = squashed_gaussian(mean, log_std, standard_normal(b));
    next_actions = s.action;
    next_log_prob = s.log_prob;
  } else {
    // Target policy smoothing: clipped Gaussian noise on the target actor's action.
    const torch::Tensor noise =
        (standard_normal(b) * config_.target_policy_noise).clamp(-config_.target_noise_clip, config_.target_noise_clip);
    next_actions = (actor_target_->deterministic(next_obs) + noise).clamp(-1.0, 1.0);
  }
  const torch::Tensor next_q = critic_target_->forward(critic_input(next_obs, next_actions));  // [N, B, out]
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

double OffPolicyAgent::critic_update(const ReplaySample& batch, const torch::Tensor& targets, double* q_mean) {
  const torch::Tensor obs = prepare(batch.observations);
  const torch::Tensor current = critic_->forward(critic_input(obs, batch.actions.to(device_)));  // [N, B, out]
  torch::Tensor loss;
  if (config_.distributional()) {
    loss = quantile_huber_loss(current.permute({1, 0, 2}), targets);
  } else {
    // The sum over critics of each one's mean squared error (SAC halves it, as SB3).
    const torch::Tensor per_critic = (current.squeeze(-1) - targets.unsqueeze(0)).square().mean(1);
    loss = per_critic.sum() * (config_.algo == "sac" ? 0.5 : 1.0);
  }
  critic_parameters_->grad().zero_();
  loss.backward({}, /*retain_graph=*/false, /*create_graph=*/false, critic_->parameters());
  critic_optimizer_->step();
  if (q_mean != nullptr) *q_mean = current.detach().mean().item<double>();
  return loss.item<double>();
}

double OffPolicyAgent::actor_update(const torch::Tensor& obs, const SquashedSample* sample) {
  torch::Tensor loss;
  if (sample != nullptr) {
    const torch::Tensor q = critic_->forward(critic_input(obs, sample->action));  // [N, B, out]
    // SAC: the smallest critic; TQC: the mean of every quantile of every critic.
    const torch::Tensor value = config_.distributional() ? q.mean(2).mean(0) : std::get<0>(q.squeeze(-1).min(0));
    loss = (ent_coef() * sample->log_prob - value).mean();
  } else {
    loss = -critic_->forward_one(critic_input(obs, actor_->deterministic(obs)), 0).mean();
  }
  actor_parameters_->grad().zero_();
  // Only the actor's gradients: autograd skips the critics' weight gradients altogether.
  loss.backward({}, false, false, actor_->parameters());
  actor_optimizer_->step();
  return loss.item<double>();
}

void OffPolicyAgent::gradient_step(const ReplaySample& batch, OffPolicyMetrics& m) {
  ++updates_;
  const torch::Tensor obs = prepare(batch.observations);
  if (config_.entropy_regularised()) {
    // The actor's sample comes first (SB3's order): the temperature learns from it, and the
    // actor's loss reuses it once the critics have taken their step.
    auto [mean, log_std] = actor_->forward(obs);
    const SquashedSample sample = squashed_gaussian(mean, log_std, standard_normal(obs.size(0)));
    if (ent_coef_optimizer_) {
      const torch::Tensor loss = -(log_ent_coef_ * (sample.log_prob.detach() + target_entropy_)).mean();
      ent_coef_optimizer_->zero_grad();
      loss.backward();
    }
    m.ent_coef += ent_coef();  // the coefficient this step uses, before the temperature's update
    const torch::Tensor targets = td_targets(batch);
    double q_mean = 0;
    m.critic_loss += critic_update(batch, targets, &q_mean);
    m.q_mean += q_mean;
    m.actor_loss += actor_update(obs, &sample);
    ++m.actor_updates;
    // The temperature steps last so that this step's targets and losses all used the same one.
    if (ent_coef_optimizer_) ent_coef_optimizer_->step();
    if (updates_ % config_.target_update_interval == 0) {
      polyak_update(critic_target_parameters_->data(), critic_parameters_->data(), config_.tau);
    }
  } else {
    const torch::Tensor targets = td_targets(batch);
    double q_mean = 0;
    m.critic_loss += critic_update(batch, targets, &q_mean);
    m.q_mean += q_mean;
    if (updates_ % config_.policy_delay == 0) {
      m.actor_loss += actor_update(obs, nullptr);
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

void OffPolicyAgent::save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) {
  torch::serialize::OutputArchive actor, critic, critic_target, actor_opt, critic_opt;
  actor_->save(actor);
  critic_->save(critic);
  critic_target_->save(critic_target);
  model.write("actor", actor);
  model.write("critic", critic);
  model.write("critic_target", critic_target);
  if (actor_target_) {
    torch::serialize::OutputArchive actor_target;
    actor_target_->save(actor_target);
    model.write("actor_target", actor_target);
  }
  model.write("log_ent_coef", log_ent_coef_.detach());
  model.write("updates", torch::tensor(updates_));
  actor_optimizer_->save(actor_opt);
  critic_optimizer_->save(critic_opt);
  optimizer.write("actor", actor_opt);
  optimizer.write("critic", critic_opt);
  if (ent_coef_optimizer_) {
    torch::serialize::OutputArchive ent_opt;
    ent_coef_optimizer_->save(ent_opt);
    optimizer.write("ent_coef", ent_opt);
  }
}

void OffPolicyAgent::load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) {
  torch::serialize::InputArchive actor, critic, critic_target, actor_opt, critic_opt;
  model.read("actor", actor);
  model.read("critic", critic);
  model.read("critic_target", critic_target);
  actor_->load(actor);
  critic_->load(critic);
  critic_target_->load(critic_target);
  if (actor_target_) {
    torch::serialize::InputArchive actor_target;
    model.read("actor_target", actor_target);
    actor_target_->load(actor_target);
  }
  // Loading may have given the parameters storage of their own.
  actor_parameters_->rebind();
  critic_parameters_->rebind();
  critic_target_parameters_->rebind();
  if (actor_target_parameters_) actor_target_parameters_->rebind();
  torch::Tensor log_ent_coef, updates;
  model.read("log_ent_coef", log_ent_coef);
  model.read("updates", updates);
  {
    torch::NoGradGuard no_grad;
    log_ent_coef_.copy_(log_ent_coef.to(device_));
  }
  updates_ = updates.item<int64_t>();
  optimizer.read("actor", actor_opt);
  optimizer.read("critic", critic_opt);
  actor_optimizer_->load(actor_opt);
  critic_optimizer_->load(critic_opt);
  if (ent_coef_optimizer_) {
    torch::serialize::InputArchive ent_opt;
    optimizer.read("ent_coef", ent_opt);
    ent_coef_optimizer_->load(ent_opt);
  }
}

}  // namespace rlforge
