#include "rlforge/agents/ppo.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

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
  if (!(gamma > 0 && gamma <= 1)) throw std::invalid_argument("gamma must be in (0, 1], got " + std::to_string(gamma));
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
        return ActorCritic(spec.observation_space, spec.action_space, config_.policy);
      }()),
      optimizer_(policy_->parameters(),
                 torch::optim::AdamOptions(config_.learning_rate).eps(config_.adam_eps)) {
  policy_->to(device_);
}

PpoMetrics Ppo::update(const RolloutBatch& batch, double progress_remaining) {
  const PpoConfig& c = config_;
  const double lr = c.learning_rate_linear ? c.learning_rate * progress_remaining : c.learning_rate;
  const double clip = c.clip_range_linear ? c.clip_range * progress_remaining : c.clip_range;
  for (auto& group : optimizer_.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }

  const torch::Tensor observations = batch.observations.to(device_);
  const torch::Tensor actions = batch.actions.to(device_);
  const torch::Tensor old_log_probs = batch.log_probs.to(device_);
  const torch::Tensor old_values = batch.values.to(device_);
  const torch::Tensor advantages_all = batch.advantages.to(device_);
  const torch::Tensor returns_all = batch.returns.to(device_);
  const int64_t size = observations.size(0);

  PpoMetrics m;
  m.learning_rate = lr;
  m.clip_range = clip;
  policy_->train();
  for (int64_t epoch = 0; epoch < c.n_epochs && !m.stopped_early; ++epoch) {
    const torch::Tensor order = torch::randperm(size, generator_, torch::TensorOptions().dtype(torch::kInt64)).to(device_);
    for (int64_t start = 0; start < size; start += c.batch_size) {
      const torch::Tensor idx = order.slice(0, start, std::min(start + c.batch_size, size));
      const auto eval = policy_->evaluate(observations.index_select(0, idx), actions.index_select(0, idx));
      torch::Tensor advantages = advantages_all.index_select(0, idx);
      if (c.normalize_advantage && advantages.size(0) > 1) {
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
      }
      const PpoLoss l = ppo_loss(eval.log_prob, old_log_probs.index_select(0, idx), advantages,
                                 eval.value, old_values.index_select(0, idx),
                                 returns_all.index_select(0, idx), eval.entropy, clip,
                                 c.clip_range_vf, c.ent_coef, c.vf_coef);
      double approx_kl, clip_fraction;
      {
        torch::NoGradGuard no_grad;
        // Schulman's low-variance estimator of KL(old || new).
        approx_kl = (l.ratio - 1 - l.log_ratio).mean().item<double>();
        clip_fraction = ((l.ratio - 1).abs() > clip).to(torch::kFloat32).mean().item<double>();
      }
      if (c.target_kl > 0 && approx_kl > 1.5 * c.target_kl) {
        m.stopped_early = true;
        break;
      }
      optimizer_.zero_grad();
      l.total.backward();
      torch::nn::utils::clip_grad_norm_(policy_->parameters(), c.max_grad_norm);
      optimizer_.step();

      ++m.minibatches;
      m.policy_loss += l.policy_loss.item<double>();
      m.value_loss += l.value_loss.item<double>();
      m.entropy += l.entropy.item<double>();
      m.approx_kl += approx_kl;
      m.clip_fraction += clip_fraction;
      if (!std::isfinite(m.policy_loss) || !std::isfinite(m.value_loss)) {
        throw std::runtime_error("PPO update: the loss became NaN or infinite");
      }
    }
  }
  if (m.minibatches > 0) {
    const auto n = static_cast<double>(m.minibatches);
    m.policy_loss /= n;
    m.value_loss /= n;
    m.entropy /= n;
    m.approx_kl /= n;
    m.clip_fraction /= n;
  }
  // Share of the return's variance the value function explains (1 is perfect).
  const double var_returns = batch.returns.var().item<double>();
  m.explained_variance =
      var_returns > 0 ? 1.0 - (batch.returns - batch.values).var().item<double>() / var_returns : 0.0;
  return m;
}

}  // namespace rlforge
