#include "rlforge/agents/actor_critic.h"

#include <cmath>
#include <stdexcept>

#include "rlforge/agents/distributions.h"

namespace rlforge {

ActorCriticImpl::ActorCriticImpl(const Space& observation_space, const Space& action_space,
                                 const ActorCriticConfig& config)
    : discrete_(action_space.is_discrete()) {
  const auto in = static_cast<int64_t>(observation_space.size());
  const int64_t out = discrete_ ? action_space.n() : static_cast<int64_t>(action_space.size());
  const double hidden_gain = std::sqrt(2.0);
  actor_ = register_module("actor", make_mlp(in, config.actor, out, hidden_gain, 0.01));
  critic_ = register_module("critic", make_mlp(in, config.critic, 1, hidden_gain, 1.0));
  if (!discrete_) {
    log_std_ = register_parameter("log_std", torch::full({out}, config.log_std_init));
  }
}

torch::Tensor ActorCriticImpl::features(const torch::Tensor& observations) const {
  return observations.flatten(1).to(torch::kFloat32);
}

ActorCriticImpl::Decision ActorCriticImpl::act(const torch::Tensor& observations,
                                               bool deterministic, torch::Generator& generator) {
  const torch::Tensor x = features(observations);
  const torch::Tensor head = actor_->forward(x);
  const torch::Tensor value = critic_->forward(x).squeeze(-1);
  if (discrete_) {
    const Categorical dist(head);
    torch::Tensor action = deterministic ? dist.mode() : dist.sample(generator);
    return {action, dist.log_prob(action), value};
  }
  const DiagGaussian dist(head, log_std_);
  torch::Tensor action = deterministic ? dist.mode() : dist.sample(generator);
  return {action, dist.log_prob(action), value};
}

ActorCriticImpl::Evaluation ActorCriticImpl::evaluate(const torch::Tensor& observations,
                                                      const torch::Tensor& actions) {
  const torch::Tensor x = features(observations);
  const torch::Tensor head = actor_->forward(x);
  const torch::Tensor value = critic_->forward(x).squeeze(-1);
  if (discrete_) {
    const Categorical dist(head);
    return {dist.log_prob(actions), dist.entropy(), value};
  }
  const DiagGaussian dist(head, log_std_);
  return {dist.log_prob(actions), dist.entropy(), value};
}

torch::Tensor ActorCriticImpl::value(const torch::Tensor& observations) {
  return critic_->forward(features(observations)).squeeze(-1);
}

}  // namespace rlforge
