#include "rlforge/agents/actor_critic.h"

#include <cmath>
#include <stdexcept>

#include "rlforge/agents/distributions.h"

namespace rlforge {

ActorCriticImpl::ActorCriticImpl(const Space& observation_space, const Space& action_space,
                                 const ActorCriticConfig& config)
    : config_(config), discrete_(action_space.is_discrete()) {
  const auto in = static_cast<int64_t>(observation_space.size());
  const int64_t out = discrete_ ? action_space.n() : static_cast<int64_t>(action_space.size());
  const double hidden_gain = std::sqrt(2.0);
  if (config.shared) {
    trunk_ = register_module("trunk", make_mlp_trunk(in, config.actor, hidden_gain));
    const int64_t width = config.actor.hidden.empty() ? in : config.actor.hidden.back();
    policy_head_ = register_module("policy_head", make_linear(width, out, 0.01));
    value_head_ = register_module("value_head", make_linear(width, 1, 1.0));
  } else {
    actor_ = register_module("actor", make_mlp(in, config.actor, out, hidden_gain, 0.01));
    critic_ = register_module("critic", make_mlp(in, config.critic, 1, hidden_gain, 1.0));
  }
  if (!discrete_) {
    log_std_ = register_parameter("log_std", torch::full({out}, config.log_std_init));
  }
  observation_norm_ = register_module("observation_norm", RunningNorm(in));
  return_norm_ = register_module("return_norm", RunningNorm(1));
}

torch::Tensor ActorCriticImpl::prepare(const torch::Tensor& observations, bool update_statistics) {
  torch::Tensor x = observations.flatten(1).to(torch::kFloat32);
  if (!config_.normalize_observation) return x;
  if (update_statistics) observation_norm_->update(x);
  return observation_norm_->normalize(x, config_.norm_clip);
}

torch::Tensor ActorCriticImpl::scale_rewards(const torch::Tensor& rewards, const torch::Tensor& returns,
                                             bool update_statistics) {
  if (!config_.normalize_reward) return rewards;
  if (update_statistics) return_norm_->update(returns.reshape({-1, 1}));
  return return_norm_->scale(rewards, config_.norm_clip);
}

std::pair<torch::Tensor, torch::Tensor> ActorCriticImpl::heads(const torch::Tensor& x) {
  if (config_.shared) {
    const torch::Tensor h = trunk_->forward(x);
    return {policy_head_->forward(h), value_head_->forward(h).squeeze(-1)};
  }
  return {actor_->forward(x), critic_->forward(x).squeeze(-1)};
}

ActorCriticImpl::Decision ActorCriticImpl::act(const torch::Tensor& x, bool deterministic,
                                               torch::Generator& generator) {
  const auto [head, value] = heads(x);
  if (discrete_) {
    const Categorical dist(head);
    torch::Tensor action = deterministic ? dist.mode() : dist.sample(generator);
    return {action, dist.log_prob(action), value};
  }
  const DiagGaussian dist(head, log_std_);
  torch::Tensor action = deterministic ? dist.mode() : dist.sample(generator);
  return {action, dist.log_prob(action), value};
}

ActorCriticImpl::Evaluation ActorCriticImpl::evaluate(const torch::Tensor& x,
                                                      const torch::Tensor& actions) {
  const auto [head, value] = heads(x);
  if (discrete_) {
    const Categorical dist(head);
    return {dist.log_prob(actions), dist.entropy(), value};
  }
  const DiagGaussian dist(head, log_std_);
  return {dist.log_prob(actions), dist.entropy(), value};
}

torch::Tensor ActorCriticImpl::value(const torch::Tensor& x) {
  if (config_.shared) return value_head_->forward(trunk_->forward(x)).squeeze(-1);
  return critic_->forward(x).squeeze(-1);
}

}  // namespace rlforge
