#include "rlforge/agents/actor_critic.h"

#include <cmath>
#include <stdexcept>

#include "rlforge/agents/distributions.h"
#include "rlforge/agents/supervised.h"

namespace rlforge {

ActorCriticImpl::ActorCriticImpl(const Space& observation_space, const Space& action_space,
                                 const ActorCriticConfig& config)
    : config_(config),
      observation_space_(observation_space),
      action_space_(action_space),
      discrete_(action_space.is_discrete()), image_(image_layout(observation_space)) {
  input_size_ = static_cast<int64_t>(observation_space.size());
  int64_t in = input_size_;
  if (image_) {
    if (config.normalize_observation) {
      throw std::invalid_argument("normalize_observation applies to vector observations; images (" +
                                  observation_space.describe() + ") are scaled by 1/255");
    }
    cnn_ = register_module("cnn", make_nature_cnn(image_->channels, image_->height, image_->width, config.cnn_features));
    // As SB3's CnnPolicy with ortho_init: orthogonal weights with gain sqrt 2, zero biases.
    if (config.actor.ortho_init) initialise_weights(*cnn_, "orthogonal");
    in = config.cnn_features;
  }
  const int64_t out = discrete_ ? action_space.n() : static_cast<int64_t>(action_space.size());
  const double hidden_gain = std::sqrt(2.0);
  if (config.shared) {
    trunk_ = register_module("trunk", make_mlp_trunk(in, config.actor, hidden_gain));
    const int64_t width = config.actor.hidden.empty() ? in : config.actor.hidden.back();
    policy_head_ = register_module("policy_head", make_linear(width, out, 0.01, config.actor.ortho_init));
    value_head_ = register_module("value_head", make_linear(width, 1, 1.0, config.actor.ortho_init));
  } else {
    actor_ = register_module("actor", make_mlp(in, config.actor, out, hidden_gain, 0.01));
    critic_ = register_module("critic", make_mlp(in, config.critic, 1, hidden_gain, 1.0));
  }
  if (config.use_sde) {
    if (discrete_) throw std::invalid_argument("use_sde needs a Box action space (gSDE perturbs continuous actions)");
    if (config.actor.hidden.empty()) throw std::invalid_argument("use_sde needs at least one hidden actor layer");
    const int64_t features = config.actor.hidden.back();
    log_std_ = register_parameter("log_std", torch::full({features, out}, config.log_std_init));
    sde_noise_ = register_buffer("sde_noise", torch::zeros({1, features, out}));
  } else if (!discrete_) {
    log_std_ = register_parameter("log_std", torch::full({out}, config.log_std_init));
  }
  // Images are never normalised; the statistics of a vector observation are per element.
  observation_norm_ = register_module("observation_norm", RunningNorm(image_ ? 1 : input_size_));

  if (image_) {
    manual_ = false;  // the hand-derived gradient covers MLPs only
  } else if (config.use_sde) {
    manual_ = false;  // the hand-derived gradient covers state-independent noise only
  } else if (config.shared) {
    const auto trunk = modules_of(trunk_);
    manual_ = trunk.empty() || MlpPass::supports(trunk);
    if (manual_) {
      if (!trunk.empty()) trunk_pass_ = MlpPass(trunk);
      policy_head_pass_ = MlpPass({policy_head_.ptr()});
      value_head_pass_ = MlpPass({value_head_.ptr()});
    }
  } else {
    manual_ = MlpPass::supports(modules_of(actor_)) && MlpPass::supports(modules_of(critic_));
    if (manual_) {
      actor_pass_ = MlpPass(modules_of(actor_));
      critic_pass_ = MlpPass(modules_of(critic_));
    }
  }
  return_norm_ = register_module("return_norm", RunningNorm(1));
}

torch::Tensor ActorCriticImpl::prepare(const torch::Tensor& observations, bool update_statistics) {
  if (image_) return to_channels_first(observations, *image_);
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

std::vector<int64_t> ActorCriticImpl::feature_shape() const {
  if (image_) return {image_->channels, image_->height, image_->width};
  return {input_size_};
}

torch::Tensor ActorCriticImpl::encode(const torch::Tensor& x) {
  if (!image_) return x;
  return cnn_->forward(cnn_input(x));
}

std::pair<torch::Tensor, torch::Tensor> ActorCriticImpl::heads(const torch::Tensor& input) {
  const torch::Tensor x = encode(input);
  if (manual_ && !torch::GradMode::is_enabled()) {
    Heads h = forward_manual(x);
    return {h.head, h.value};
  }
  if (config_.shared) {
    const torch::Tensor h = trunk_->is_empty() ? x : trunk_->forward(x);
    return {policy_head_->forward(h), value_head_->forward(h).squeeze(-1)};
  }
  return {actor_->forward(x), critic_->forward(x).squeeze(-1)};
}

torch::Tensor ActorCriticImpl::policy_output_recorded(const torch::Tensor& features, LinearTape& tape) {
  if (image_ || config_.use_sde) {
    throw std::invalid_argument("DP-SGD clips per-sample gradients of MLP policies on vector observations without gSDE");
  }
  if (config_.shared) {
    const torch::Tensor h = trunk_->is_empty() ? features : forward_recorded(trunk_, features, tape);
    return tape.linear(*policy_head_, h);
  }
  return forward_recorded(actor_, features, tape);
}

std::vector<torch::Tensor> ActorCriticImpl::policy_parameters() const {
  if (!config_.shared) return actor_->parameters();
  std::vector<torch::Tensor> p = trunk_->parameters();
  for (const torch::Tensor& t : policy_head_->parameters()) p.push_back(t);
  return p;
}

ActorCriticImpl::Heads ActorCriticImpl::raw_outputs(const torch::Tensor& observations) {
  const torch::AutoGradMode grad(true);
  const torch::Tensor x = prepare(observations.to(torch::kFloat32), false);
  if (discrete_) {
    auto [head, value] = heads(x);
    return {head, value};
  }
  const Policy p = gaussian(x);
  return {p.mean, p.value};
}

torch::Tensor ActorCriticImpl::policy_head(const torch::Tensor& features) {
  const torch::AutoGradMode grad(true);
  return discrete_ ? heads(features).first : gaussian(features).mean;
}

std::vector<std::shared_ptr<torch::nn::Module>> ActorCriticImpl::policy_modules() const {
  std::vector<std::shared_ptr<torch::nn::Module>> modules = modules_of(config_.shared ? trunk_ : actor_);
  if (config_.shared) modules.push_back(policy_head_.ptr());
  return modules;
}

bool ActorCriticImpl::bounds_supported() const {
  return discrete_ && !image_ && interval_bounds_supported(policy_modules());
}

torch::Tensor ActorCriticImpl::logit_gap_bound(const torch::Tensor& features, const torch::Tensor& radius,
                                               const torch::Tensor& greedy) {
  if (!discrete_ || image_) throw std::invalid_argument("logit gap bounds need Discrete actions and vector observations");
  const torch::AutoGradMode grad(true);
  return output_gap_bound(policy_modules(), {features, radius}, greedy);
}

torch::Tensor ActorCriticImpl::certify_greedy(const torch::Tensor& observations, const torch::Tensor& radius) {
  if (!bounds_supported()) {
    throw std::invalid_argument(
        "this policy cannot be bounded (needs Discrete actions, vector observations and tanh, relu or elu)");
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor x = observations.flatten(1).to(torch::kFloat32);
  const torch::Tensor r = radius.flatten().to(x.options());
  // Normalisation (and its clip) is monotone per element: the box's corners map to the corners.
  const torch::Tensor low = prepare(x - r, false), high = prepare(x + r, false);
  const torch::Tensor greedy = heads(prepare(x, false)).first.argmax(1);
  const torch::Tensor gaps = output_gap_bound(policy_modules(), {(high + low) / 2, (high - low) / 2}, greedy);
  return greedy_certified(gaps, greedy);
}

ActorCriticImpl::Policy ActorCriticImpl::gaussian(const torch::Tensor& input) {
  if (!config_.use_sde) {
    auto [mean, value] = heads(input);
    return {mean, log_std_, value, {}};
  }
  const torch::Tensor x = encode(input);
  // The actor's last hidden features, then its head.
  torch::Tensor features, mean, value;
  if (config_.shared) {
    features = trunk_->forward(x);
    mean = policy_head_->forward(features);
    value = value_head_->forward(features).squeeze(-1);
  } else {
    features = x;
    auto last = std::prev(actor_->end());
    for (auto it = actor_->begin(); it != last; ++it) features = it->forward(features);
    mean = last->forward(features);
    value = critic_->forward(x).squeeze(-1);
  }
  features = features.detach();  // as SB3 (learn_features=False): the noise does not train the features
  // Action variance: sum over features of feature^2 * std^2, per action dimension.
  const torch::Tensor variance = torch::mm(features.pow(2), (2 * log_std_).exp());
  return {mean, 0.5 * (variance + 1e-6).log(), value, features};
}

void ActorCriticImpl::reset_noise(int64_t batch, torch::Generator& generator) {
  if (!config_.use_sde) return;
  torch::NoGradGuard no_grad;
  // set_ keeps the registered buffer pointing here; a loaded buffer's storage cannot be resized.
  sde_noise_.set_(torch::randn({batch, log_std_.size(0), log_std_.size(1)}, generator, log_std_.options())
                      .mul_(log_std_.exp()));
}

torch::Tensor ActorCriticImpl::noise() const { return config_.use_sde ? sde_noise_.clone() : torch::Tensor(); }

void ActorCriticImpl::set_noise(const torch::Tensor& noise) {
  if (!config_.use_sde || !noise.defined()) return;
  torch::NoGradGuard no_grad;
  sde_noise_.set_(noise.clone());
}

ActorCriticImpl::Decision ActorCriticImpl::act(const torch::Tensor& x, bool deterministic,
                                               torch::Generator& generator) {
  if (discrete_) {
    const auto [head, value] = heads(x);
    const Categorical dist(head);
    torch::Tensor action = deterministic ? dist.mode() : dist.sample(generator);
    return {action, dist.log_prob(action), value};
  }
  const Policy p = gaussian(x);
  const DiagGaussian dist(p.mean, p.log_std);
  torch::Tensor action;
  if (deterministic) {
    action = dist.mode();
  } else if (config_.use_sde) {
    if (sde_noise_.size(0) != x.size(0)) reset_noise(x.size(0), generator);
    action = p.mean + torch::bmm(p.sde_features.unsqueeze(1), sde_noise_).squeeze(1);
  } else {
    action = dist.sample(generator);
  }
  return {action, dist.log_prob(action), p.value};
}

ActorCriticImpl::Evaluation ActorCriticImpl::evaluate(const torch::Tensor& x,
                                                      const torch::Tensor& actions) {
  if (discrete_) {
    const auto [head, value] = heads(x);
    const Categorical dist(head);
    return {dist.log_prob(actions), dist.entropy(), value};
  }
  const Policy p = gaussian(x);
  const DiagGaussian dist(p.mean, p.log_std);
  return {dist.log_prob(actions), dist.entropy(), p.value};
}

torch::Tensor ActorCriticImpl::value(const torch::Tensor& input) {
  const torch::Tensor x = encode(input);
  if (manual_ && !torch::GradMode::is_enabled()) {
    if (!config_.shared) return critic_pass_.forward(x).squeeze(-1);
    return value_head_pass_.forward(config_.actor.hidden.empty() ? x : trunk_pass_.forward(x)).squeeze(-1);
  }
  if (config_.shared) return value_head_->forward(trunk_->is_empty() ? x : trunk_->forward(x)).squeeze(-1);
  return critic_->forward(x).squeeze(-1);
}

ActorCriticImpl::Heads ActorCriticImpl::forward_manual(const torch::Tensor& x) {
  if (!manual_) throw std::logic_error("ActorCritic: no manual forward for activation " + config_.actor.activation);
  torch::NoGradGuard no_grad;
  if (config_.shared) {
    const torch::Tensor h = config_.actor.hidden.empty() ? x : trunk_pass_.forward(x);
    return {policy_head_pass_.forward(h), value_head_pass_.forward(h).squeeze(-1)};
  }
  return {actor_pass_.forward(x), critic_pass_.forward(x).squeeze(-1)};
}

void ActorCriticImpl::backward_manual(const torch::Tensor& head_grad, const torch::Tensor& value_grad) {
  torch::NoGradGuard no_grad;
  const torch::Tensor value_out_grad = value_grad.unsqueeze(-1);
  if (config_.shared) {
    const bool has_trunk = !config_.actor.hidden.empty();
    torch::Tensor trunk_grad = policy_head_pass_.backward(head_grad, has_trunk);
    if (!has_trunk) {
      value_head_pass_.backward(value_out_grad, false);
      return;
    }
    trunk_grad.add_(value_head_pass_.backward(value_out_grad, true));
    trunk_pass_.backward(trunk_grad, false);
    return;
  }
  actor_pass_.backward(head_grad, false);
  critic_pass_.backward(value_out_grad, false);
}

InferenceGraph ActorCriticImpl::inference_graph(const InferenceOptions& options, const std::string& algorithm) const {
  using Op = GraphNode::Op;
  GraphBuilder g(observation_space_, algorithm, action_space_);
  GraphValue x;
  if (image_) {
    x = g.sequential(g.image_input(g.observation(), *image_), cnn_);
  } else {
    x = g.vector_input(g.observation());
    if (config_.normalize_observation) {
      const double epsilon = 1e-8;  // RunningNormImpl::normalize's
      x = g.with_constant(Op::sub, x, observation_norm_->mean().to(torch::kFloat32));
      x = g.with_constant(Op::div, x, (observation_norm_->var() + epsilon).sqrt().to(torch::kFloat32));
      if (config_.norm_clip > 0) x = g.clip(x, -config_.norm_clip, config_.norm_clip);
    }
  }
  GraphValue head, value, features = x;
  if (config_.shared) {
    if (!trunk_->is_empty()) features = g.sequential(x, trunk_);
    head = g.linear(features, policy_head_);
    value = g.linear(features, value_head_);
  } else {
    head = g.sequential(x, actor_);
    value = g.sequential(x, critic_);
  }
  if (discrete_) {
    g.output("action", g.unary(Op::argmax, head));
  } else {
    g.output("action", g.clip_to_box(head, action_space_));
  }
  if (options.value) g.output("value", g.unary(Op::squeeze, value));
  if (options.distribution) {
    if (discrete_) {
      g.output("logits", head);
    } else {
      g.output("mean", head);
      // gSDE's spread depends on the state through the noise weights drawn per rollout: there is
      // no one log-std to export.
      if (!config_.use_sde) g.output("log_std", g.rows(head, log_std_));
    }
  }
  return g.finish();
}

}  // namespace rlforge
