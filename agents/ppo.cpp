#include "rlforge/agents/ppo.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "ppo_fused_loss.h"

namespace rlforge {

void PpoConfig::validate() const {
  auto positive = [](const char* name, double v) {
    if (!(v > 0)) throw std::invalid_argument(std::string(name) + " must be > 0, got " + std::to_string(v));
  };
  auto non_negative = [](const char* name, double v) {
    if (!(v >= 0)) throw std::invalid_argument(std::string(name) + " must be >= 0, got " + std::to_string(v));
  };
  positive("n_steps", static_cast<double>(n_steps));
  positive("batch_size", static_cast<double>(batch_size));
  positive("n_epochs", static_cast<double>(n_epochs));
  // gamma 0 is a one-step objective (the advantage is reward - value), which GAE handles.
  if (!(gamma >= 0 && gamma <= 1)) throw std::invalid_argument("gamma must be in [0, 1], got " + std::to_string(gamma));
  if (!(gae_lambda >= 0 && gae_lambda <= 1)) {
    throw std::invalid_argument("gae_lambda must be in [0, 1], got " + std::to_string(gae_lambda));
  }
  positive("clip_range", clip_range);
  non_negative("clip_range_vf", clip_range_vf);
  non_negative("ent_coef", ent_coef);
  non_negative("vf_coef", vf_coef);
  positive("max_grad_norm", max_grad_norm);
  positive("learning_rate", learning_rate);
  non_negative("target_kl", target_kl);
  positive("adam_eps", adam_eps);
  non_negative("adversarial.epsilon", adversarial.epsilon);
  non_negative("adversarial.coef", adversarial.coef);
  non_negative("adversarial.step_size", adversarial.step_size);
  if (!(adversarial.warmup >= 0 && adversarial.warmup <= 1)) {
    throw std::invalid_argument("adversarial.warmup must be in [0, 1], got " + std::to_string(adversarial.warmup));
  }
  positive("adversarial.steps", static_cast<double>(adversarial.steps));
  if (adversarial.objective != "kl" && adversarial.objective != "margin") {
    throw std::invalid_argument("adversarial.objective must be kl or margin, got '" + adversarial.objective + "'");
  }
  if (adversarial.solver != "pgd" && adversarial.solver != "ibp") {
    throw std::invalid_argument("adversarial.solver must be pgd or ibp, got '" + adversarial.solver + "'");
  }
  if (adversarial.certified() && !adversarial.margin_objective()) {
    throw std::invalid_argument("adversarial.solver ibp bounds the margin objective only (objective: margin)");
  }
  if (!(adversarial.train_fraction >= 0 && adversarial.train_fraction <= 1)) {
    throw std::invalid_argument("adversarial.train_fraction must be in [0, 1], got " +
                                std::to_string(adversarial.train_fraction));
  }
}

int64_t AdversarialConfig::attacked_envs(int64_t num_envs) const {
  if (!attacks_observations()) return 0;
  return std::min(num_envs, std::max<int64_t>(1, std::llround(train_fraction * static_cast<double>(num_envs))));
}

PpoLoss ppo_loss(const torch::Tensor& log_probs, const torch::Tensor& old_log_probs,
                 const torch::Tensor& advantages, const torch::Tensor& values,
                 const torch::Tensor& old_values, const torch::Tensor& returns,
                 const torch::Tensor& entropy, double clip_range, double clip_range_vf,
                 double ent_coef, double vf_coef) {
  PpoLoss l;
  l.log_ratio = log_probs - old_log_probs;
  l.ratio = l.log_ratio.exp();
  const torch::Tensor& ratio = l.ratio;
  // Clipped surrogate: the pessimistic one of the plain and the clipped objective.
  l.policy_loss = torch::max(-advantages * ratio,
                             -advantages * torch::clamp(ratio, 1 - clip_range, 1 + clip_range))
                      .mean();
  // SB3's value loss: plain MSE, the prediction clipped around the rollout's value if asked.
  torch::Tensor prediction = values;
  if (clip_range_vf > 0) {
    prediction = old_values + torch::clamp(values - old_values, -clip_range_vf, clip_range_vf);
  }
  l.value_loss = torch::mse_loss(prediction, returns);
  l.entropy = entropy.mean();
  l.total = l.policy_loss - ent_coef * l.entropy + vf_coef * l.value_loss;
  return l;
}

Ppo::Ppo(const EnvSpec& spec, PpoConfig config, uint64_t seed, torch::Device device)
    : config_(std::move(config)),
      device_(device),
      generator_(at::detail::createCPUGenerator(seed)),
      policy_([&] {
        config_.validate();
        // Weight initialisation draws from LibTorch's default generator: seed it for
        // reproducible networks.
        torch::manual_seed(seed);
        ActorCritic policy(spec.observation_space, spec.action_space, config_.policy);
        policy->to(device_);
        return policy;
      }()),
      parameters_(policy_->parameters()),
      optimizer_(std::vector<torch::Tensor>{parameters_.data()},
                 torch::optim::AdamOptions(config_.learning_rate).eps(config_.adam_eps)),
      adversarial_epsilon_(config_.adversarial.epsilon_at(0.0)) {}

void Ppo::save(torch::serialize::OutputArchive& model, torch::serialize::OutputArchive& optimizer) {
  policy_->save(model);
  optimizer_.save(optimizer);
  // What the next collection attacks with: a resumed run attacks as the original would.
  if (config_.adversarial.attacks_observations() && observation_unit_.defined()) {
    model.write("adversarial_observation_unit", observation_unit_);
    model.write("adversarial_epsilon", torch::tensor(adversarial_epsilon_, torch::kFloat64));
  }
}

void Ppo::load(torch::serialize::InputArchive& model, torch::serialize::InputArchive& optimizer) {
  policy_->load(model);
  parameters_.rebind();  // loading gave the parameters storage of their own
  optimizer_.load(optimizer);
  torch::Tensor unit, epsilon;
  if (config_.adversarial.attacks_observations() && model.try_read("adversarial_observation_unit", unit) &&
      model.try_read("adversarial_epsilon", epsilon)) {
    observation_unit_ = unit.to(device_);
    adversarial_epsilon_ = epsilon.item<double>();
  }
}

void Ppo::set_learning_rate_scales(const std::map<std::string, double>& scales) {
  lr_scale_ = torch::ones_like(parameters_.data().detach());
  int64_t offset = 0;
  for (const auto& item : policy_->named_parameters()) {
    const int64_t n = item.value().numel();
    const auto it = scales.find(item.key());
    if (it != scales.end()) lr_scale_.narrow(0, offset, n).fill_(it->second);
    offset += n;
  }
  trainable_ = (lr_scale_ > 0).to(lr_scale_.scalar_type());
  step_start_ = torch::empty_like(lr_scale_);
}

torch::Tensor Ppo::act(const torch::Tensor& observations, bool deterministic, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  return policy_->act(policy_->prepare(observations.to(device_), false), deterministic, generator).action;
}

Agent::Outputs Ppo::differentiable_outputs(const torch::Tensor& observations) {
  const ActorCriticImpl::Heads h = policy_->raw_outputs(observations.to(device_));
  return {h.head, h.value};
}

torch::Tensor Ppo::certify_actions(const torch::Tensor& observations, const torch::Tensor& radius) {
  if (!policy_->bounds_supported()) return {};
  return policy_->certify_greedy(observations.to(device_), radius.to(device_));
}

InferenceGraph Ppo::inference_graph(const InferenceOptions& options) {
  return policy_->inference_graph(options, "ppo");
}

torch::Tensor Ppo::exploration_state() const { return policy_->noise(); }
void Ppo::restore_exploration_state(const torch::Tensor& state) { policy_->set_noise(state); }
void Ppo::reset_exploration(int64_t batch, torch::Generator& generator) { policy_->reset_noise(batch, generator); }

bool Ppo::uses_manual_gradient() const {
  return config_.manual_gradient && !config_.adversarial.enabled() && policy_->manual_gradient_supported() &&
         device_.is_cpu();
}

torch::Tensor Ppo::compute_gradient(const Minibatch& mb, double clip_range, double kl_limit, bool& over_kl_limit) {
  over_kl_limit = false;
  const bool float_inputs = mb.features.scalar_type() == torch::kFloat32 &&
                            mb.old_log_probs.scalar_type() == torch::kFloat32 &&
                            mb.advantages.scalar_type() == torch::kFloat32 &&
                            mb.old_values.scalar_type() == torch::kFloat32 &&
                            mb.returns.scalar_type() == torch::kFloat32 &&
                            mb.actions.scalar_type() == (policy_->discrete() ? torch::kInt64 : torch::kFloat32);
  return uses_manual_gradient() && float_inputs ? manual_gradient(mb, clip_range, kl_limit, over_kl_limit)
                                                : autograd_gradient(mb, clip_range, kl_limit, over_kl_limit);
}

torch::Tensor Ppo::autograd_gradient(const Minibatch& mb, double clip_range, double kl_limit, bool& over_kl_limit) {
  const PpoConfig& c = config_;
  auto take = [&](const torch::Tensor& t) { return mb.rows.defined() ? t.index_select(0, mb.rows) : t; };
  torch::Tensor advantages = take(mb.advantages);
  if (c.normalize_advantage && advantages.size(0) > 1) {
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
  }
  const auto eval = policy_->evaluate(take(mb.features), take(mb.actions));
  const PpoLoss l = ppo_loss(eval.log_prob, take(mb.old_log_probs), advantages, eval.value, take(mb.old_values),
                             take(mb.returns), eval.entropy, clip_range, c.clip_range_vf, c.ent_coef, c.vf_coef);
  const torch::Tensor total =
      c.adversarial.enabled() ? l.total + c.adversarial.coef * adversarial_penalty(take(mb.features)) : l.total;
  torch::NoGradGuard no_grad;
  // Schulman's low-variance estimator of KL(old || new), and the share of clipped ratios.
  const torch::Tensor kl = ((l.ratio - 1) - l.log_ratio).mean();
  const torch::Tensor clip_fraction = ((l.ratio - 1).abs() > clip_range).to(torch::kFloat32).mean();
  const torch::Tensor stats =
      torch::stack({l.policy_loss, l.value_loss, l.entropy, kl, clip_fraction}).detach().to(torch::kCPU, torch::kFloat64);
  if (kl_limit > 0 && kl.item<double>() > kl_limit) {
    over_kl_limit = true;
    return stats;
  }
  parameters_.grad().zero_();  // backward() adds into the gradients
  total.backward();
  return stats;
}

torch::Tensor Ppo::head_divergence(const torch::Tensor& reference, const torch::Tensor& perturbed) const {
  if (policy_->discrete()) {
    const torch::Tensor p_log = torch::log_softmax(reference, 1), q_log = torch::log_softmax(perturbed, 1);
    return (p_log.exp() * (p_log - q_log)).sum(1);
  }
  const torch::Tensor variance = (2 * policy_->log_std()).exp();
  return ((reference - perturbed).pow(2) / (2 * variance)).sum(1);
}

torch::Tensor Ppo::adversarial_objective(const torch::Tensor& reference, const torch::Tensor& perturbed) const {
  if (!config_.adversarial.margin_objective()) return head_divergence(reference, perturbed);
  const torch::Tensor greedy = reference.argmax(1, /*keepdim=*/true);
  const torch::Tensor others = perturbed.scatter(1, greedy, -std::numeric_limits<float>::infinity());
  return std::get<0>(others.max(1)) - perturbed.gather(1, greedy).squeeze(1);
}

torch::Tensor Ppo::pgd_features(const torch::Tensor& x, const torch::Tensor& radius) {
  const AdversarialConfig& a = config_.adversarial;
  const torch::Tensor reference = policy_->policy_head(x).detach();
  // PGD from a uniform start, the policy held fixed.
  torch::Tensor adv = x + (torch::rand(x.sizes(), generator_).to(x.device()) * 2 - 1) * radius;
  const double step = (a.step_size > 0 ? a.step_size : 2.5 / std::max(1, a.steps));
  for (int k = 0; k < a.steps; ++k) {
    const torch::AutoGradMode grad(true);
    const torch::Tensor leaf = adv.detach().requires_grad_(true);
    const torch::Tensor objective = adversarial_objective(reference, policy_->policy_head(leaf)).sum();
    const torch::Tensor g = torch::autograd::grad({objective}, {leaf})[0];
    adv = torch::max(torch::min(leaf.detach() + step * radius * g.sign(), x + radius), x - radius);
  }
  return adv.detach();
}

torch::Tensor Ppo::feature_unit(const torch::Tensor& x) const {
  return policy_->config().normalize_observation
             ? torch::ones({x.size(1)}, x.options())
             : std::get<0>(torch::std_mean(x, 0, /*unbiased=*/false)).clamp_min(1e-6);
}

torch::Tensor Ppo::adversarial_penalty(const torch::Tensor& features) {
  if (policy_->image()) throw std::invalid_argument("SA-PPO's regulariser supports vector observations only");
  const AdversarialConfig& a = config_.adversarial;
  const torch::Tensor x = features.detach();
  // The radius per feature, in the spread of this minibatch.
  const torch::Tensor radius = feature_unit(x) * adversarial_epsilon_;
  const torch::Tensor clean = policy_->policy_head(x);
  if (!a.margin_objective()) return head_divergence(clean, policy_->policy_head(pgd_features(x, radius))).mean();
  if (!policy_->discrete()) throw std::invalid_argument("the margin objective needs Discrete actions");
  // Only rows whose greedy action already leads by `margin` at s count: over every row the hinge
  // would push a stochastic policy towards confidence from its first update and end exploration
  // (measured: a LunarLander policy collapsed to one action within 100k steps).
  const torch::Tensor reference = clean.detach();
  const torch::Tensor confident = (adversarial_objective(reference, reference) <= -a.margin).to(reference.dtype());
  torch::Tensor worst_gap;
  if (a.certified()) {
    const torch::Tensor greedy = reference.argmax(1);
    const torch::Tensor gaps = policy_->logit_gap_bound(x, radius, greedy);
    worst_gap = std::get<0>(gaps.scatter(1, greedy.unsqueeze(1), -std::numeric_limits<float>::infinity()).max(1));
  } else {
    worst_gap = adversarial_objective(reference, policy_->policy_head(pgd_features(x, radius)));
  }
  return (torch::relu(worst_gap + a.margin) * confident).mean();
}

torch::Tensor Ppo::attack_features(const torch::Tensor& features) {
  if (policy_->image()) throw std::invalid_argument("training on attacked observations supports vector observations only");
  if (!observation_unit_.defined() || adversarial_epsilon_ <= 0) return features;
  torch::NoGradGuard no_grad;
  return pgd_features(features.detach(), observation_unit_ * adversarial_epsilon_);
}

torch::Tensor Ppo::manual_gradient(const Minibatch& mb, double clip_range, double kl_limit, bool& over_kl_limit) {
  const PpoConfig& c = config_;
  torch::NoGradGuard no_grad;
  const torch::Tensor rows = mb.rows.defined() ? mb.rows.contiguous() : torch::Tensor();
  const torch::Tensor features = rows.defined() ? mb.features.index_select(0, rows) : mb.features;
  const ActorCriticImpl::Heads heads = policy_->forward_manual(features);
  const torch::Tensor head = heads.head.contiguous(), value = heads.value.contiguous();
  const torch::Tensor actions = mb.actions.contiguous(), old_log_probs = mb.old_log_probs.contiguous(),
                      advantages = mb.advantages.contiguous(), old_values = mb.old_values.contiguous(),
                      returns = mb.returns.contiguous();

  detail::FusedLossInput in;
  in.batch = features.size(0);
  in.rows = rows.defined() ? rows.data_ptr<int64_t>() : nullptr;
  in.head = head.data_ptr<float>();
  in.value = value.data_ptr<float>();
  in.width = head.size(1);
  torch::Tensor log_std, log_std_grad;
  if (policy_->discrete()) {
    in.discrete_actions = actions.data_ptr<int64_t>();
  } else {
    log_std = policy_->log_std().detach().contiguous();
    log_std_grad = torch::empty_like(log_std);
    in.continuous_actions = actions.data_ptr<float>();
    in.log_std = log_std.data_ptr<float>();
  }
  in.old_log_probs = old_log_probs.data_ptr<float>();
  in.advantages = advantages.data_ptr<float>();
  in.old_values = old_values.data_ptr<float>();
  in.returns = returns.data_ptr<float>();
  in.normalize_advantage = c.normalize_advantage;
  in.clip_range = clip_range;
  in.clip_range_vf = c.clip_range_vf;
  in.ent_coef = c.ent_coef;
  in.vf_coef = c.vf_coef;

  const torch::Tensor head_grad = torch::empty_like(head);
  const torch::Tensor value_grad = torch::empty_like(value);
  detail::FusedLossOutput out;
  out.head_grad = head_grad.data_ptr<float>();
  out.value_grad = value_grad.data_ptr<float>();
  if (log_std_grad.defined()) out.log_std_grad = log_std_grad.data_ptr<float>();
  detail::fused_ppo_loss(in, out);

  const torch::Tensor stats = torch::tensor({out.stats[0], out.stats[1], out.stats[2], out.stats[3], out.stats[4]},
                                            torch::kFloat64);
  if (kl_limit > 0 && out.stats[3] > kl_limit) {
    over_kl_limit = true;
    return stats;
  }
  policy_->backward_manual(head_grad, value_grad);
  if (log_std_grad.defined()) policy_->log_std().mutable_grad().copy_(log_std_grad);
  return stats;
}

namespace {

// Throws when a minibatch's loss terms or gradient norm are NaN or infinite, naming which and
// where; the weights have not been stepped with it.
void check_finite(const torch::Tensor& stats, double grad_norm, int64_t epoch, int64_t minibatch) {
  auto describe = [](double x) { return std::isnan(x) ? "NaN" : x > 0 ? "+infinity" : "-infinity"; };
  const auto v = stats.accessor<double, 1>();
  const char* names[] = {"policy loss", "value loss", "entropy"};
  std::string what;
  for (int i = 0; i < 3 && what.empty(); ++i) {
    if (!std::isfinite(v[i])) what = std::string("the ") + names[i] + " is " + describe(v[i]);
  }
  if (what.empty() && !std::isfinite(grad_norm)) what = std::string("the gradient norm is ") + describe(grad_norm);
  if (what.empty()) return;
  throw std::runtime_error("PPO update: " + what + " in epoch " + std::to_string(epoch + 1) + ", minibatch " +
                           std::to_string(minibatch + 1) + "; the weights were not updated with it");
}

}  // namespace

PpoMetrics Ppo::update(const RolloutBatch& batch, double progress_remaining) {
  const PpoConfig& c = config_;
  const double lr = c.learning_rate_linear ? c.learning_rate * progress_remaining : c.learning_rate;
  const double clip = c.clip_range_linear ? c.clip_range * progress_remaining : c.clip_range;
  adversarial_epsilon_ = c.adversarial.epsilon_at(1.0 - progress_remaining);
  for (auto& group : optimizer_.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }

  const torch::Tensor observations = batch.observations.to(device_);
  if (c.adversarial.attacks_observations() && !policy_->image()) {
    // The next collection's attack unit: each feature's spread over this rollout.
    observation_unit_ = feature_unit(observations);
  }
  const torch::Tensor actions = policy_->discrete() ? batch.actions.to(device_, torch::kInt64) : batch.actions.to(device_);
  const torch::Tensor old_log_probs = batch.log_probs.to(device_);
  const torch::Tensor old_values = batch.values.to(device_);
  const torch::Tensor advantages_all = batch.advantages.to(device_);
  const torch::Tensor returns_all = batch.returns.to(device_);
  const int64_t size = observations.size(0);
  const double kl_limit = c.target_kl > 0 ? 1.5 * c.target_kl : 0.0;

  PpoMetrics m;
  m.learning_rate = lr;
  m.clip_range = clip;
  m.adversarial_epsilon = c.adversarial.active() ? adversarial_epsilon_ : 0.0;
  policy_->train();
  torch::Tensor stats_sum = torch::zeros({5}, torch::kFloat64);
  for (int64_t epoch = 0; epoch < c.n_epochs && !m.stopped_early; ++epoch) {
    const torch::Tensor order = torch::randperm(size, generator_, torch::TensorOptions().dtype(torch::kInt64)).to(device_);
    for (int64_t start = 0; start < size; start += c.batch_size) {
      const Minibatch mb{observations,   actions,    old_log_probs, advantages_all,
                         old_values,     returns_all, order.slice(0, start, std::min(start + c.batch_size, size))};
      bool over_kl_limit = false;
      torch::Tensor stats = compute_gradient(mb, clip, averager_ ? 0.0 : kl_limit, over_kl_limit);
      if (averager_) {
        torch::Tensor gradient = parameters_.grad();
        averager_(gradient, stats);
        over_kl_limit = kl_limit > 0 && stats[3].item<double>() > kl_limit;
      }
      if (over_kl_limit) {
        m.stopped_early = true;
        break;
      }
      if (lr_scale_.defined()) {
        parameters_.grad().mul_(trainable_);
        step_start_.copy_(parameters_.data().detach());
      }
      const double grad_norm =
          torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{parameters_.data()}, c.max_grad_norm);
      // Before the step, so that a non-finite loss or gradient never reaches the weights (or
      // Adam's moments): the norm of the flat gradient is finite only if every element is.
      check_finite(stats, grad_norm, epoch, start / c.batch_size);
      optimizer_.step();
      if (lr_scale_.defined()) {
        // Adam's step is linear in the learning rate: scaling the step scales the rate.
        torch::NoGradGuard no_grad;
        torch::Tensor data = parameters_.data().detach();
        data.sub_(step_start_).mul_(lr_scale_).add_(step_start_);
      }
      stats_sum.add_(stats);
      ++m.minibatches;
    }
  }
  if (m.minibatches > 0) {
    const torch::Tensor mean = stats_sum / static_cast<double>(m.minibatches);
    const auto v = mean.accessor<double, 1>();
    m.policy_loss = v[0];
    m.value_loss = v[1];
    m.entropy = v[2];
    m.approx_kl = v[3];
    m.clip_fraction = v[4];
  }
  // Share of the return's variance the value function explains (1 is perfect).
  const double var_returns = batch.returns.var().item<double>();
  m.explained_variance =
      var_returns > 0 ? 1.0 - (batch.returns - batch.values).var().item<double>() / var_returns : 0.0;
  return m;
}

}  // namespace rlforge
