#include "rlforge/evaluation/attacks.h"

#include <cmath>
#include <stdexcept>

namespace rlforge {

AttackSettings::Method AttackSettings::method_named(const std::string& name) {
  if (name == "fgsm") return Method::Fgsm;
  if (name == "pgd") return Method::Pgd;
  throw std::invalid_argument("unknown attack method '" + name + "'; expected fgsm or pgd");
}

AttackSettings::Objective AttackSettings::objective_named(const std::string& name) {
  if (name == "action") return Objective::Action;
  if (name == "value") return Objective::Value;
  throw std::invalid_argument("unknown attack objective '" + name + "'; expected action or value");
}

std::string AttackSettings::describe() const {
  std::string text = method == Method::Fgsm ? "FGSM" : "PGD (" + std::to_string(steps) + " steps)";
  return text + (objective == Objective::Action ? " against the action" : " against the value");
}

AttackBall AttackBall::for_spec(const EnvSpec& spec, const torch::Tensor& scale) {
  const Space& o = spec.observation_space;
  if (!o.is_box()) throw std::invalid_argument("observation attacks need a Box observation space, not " + o.describe());
  AttackBall ball;
  const std::vector<int64_t> shape(o.shape().begin(), o.shape().end());
  ball.low = torch::tensor(o.low()).reshape(shape);
  ball.high = torch::tensor(o.high()).reshape(shape);
  ball.integer = o.dtype() == DType::UInt8;
  ball.discrete_actions = spec.action_space.is_discrete();
  if (!scale.defined() || scale.numel() == 0) {
    ball.scale = torch::ones(shape);
  } else {
    if (scale.numel() != static_cast<int64_t>(o.size())) {
      throw std::invalid_argument("an attack scale holds " + std::to_string(scale.numel()) + " values for " +
                                  std::to_string(o.size()) + " observation elements");
    }
    ball.scale = scale.to(torch::kFloat32).reshape(shape);
  }
  return ball;
}

torch::Tensor attack_objective(Agent& agent, const AttackSettings& settings, const AttackBall& ball,
                               const Agent::Outputs& clean, const torch::Tensor& perturbed) {
  const Agent::Outputs out = agent.differentiable_outputs(perturbed);
  if (settings.objective == AttackSettings::Objective::Value) {
    if (!out.value.defined()) throw std::invalid_argument("this agent has no value estimate to attack");
    return -out.value.to(torch::kCPU);
  }
  const torch::Tensor action = out.action.to(torch::kCPU);
  const torch::Tensor reference = clean.action.detach().to(torch::kCPU);
  if (ball.discrete_actions) {
    const torch::Tensor chosen = reference.argmax(1, /*keepdim=*/true);
    return -torch::log_softmax(action, 1).gather(1, chosen).squeeze(1);
  }
  return (action - reference).pow(2).sum(1);
}

torch::Tensor attack_observations(Agent& agent, const torch::Tensor& observations, const AttackSettings& settings,
                                  const AttackBall& ball, torch::Generator& generator) {
  const torch::Tensor x = observations.to(torch::kFloat32).detach();
  if (settings.epsilon <= 0) return x;
  // Evaluation loops run without autograd; the attack needs it.
  const torch::AutoGradMode grad_mode(true);
  torch::Tensor radius = ball.scale * settings.epsilon;
  if (ball.integer) radius = radius.floor();
  const torch::Tensor low = torch::max(x - radius, ball.low), high = torch::min(x + radius, ball.high);
  auto project = [&](const torch::Tensor& t) {
    const torch::Tensor inside = torch::max(torch::min(t, high), low);
    return ball.integer ? inside.round() : inside;
  };
  Agent::Outputs clean = agent.differentiable_outputs(x);
  clean.action = clean.action.detach();
  if (clean.value.defined()) clean.value = clean.value.detach();

  const bool fgsm = settings.method == AttackSettings::Method::Fgsm;
  const bool box_action = !ball.discrete_actions && settings.objective == AttackSettings::Objective::Action;
  torch::Tensor start = x;
  if (fgsm ? box_action : settings.random_start) {
    start = project(x + (torch::rand(x.sizes(), generator) * 2 - 1) * radius);
  }
  auto ascent_direction = [&](const torch::Tensor& at) {
    const torch::Tensor leaf = at.detach().requires_grad_(true);
    const torch::Tensor objective = attack_objective(agent, settings, ball, clean, leaf).sum();
    return torch::autograd::grad({objective}, {leaf})[0].sign();
  };
  if (fgsm) return project(start + radius * ascent_direction(start)).detach();
  const int steps = std::max(1, settings.steps);
  const double step = settings.step_size > 0 ? settings.step_size : 2.5 / steps;
  torch::Tensor current = start;
  for (int k = 0; k < steps; ++k) current = project(current + step * radius * ascent_direction(current));
  return current.detach();
}

BatchPolicy attacked_policy(Agent& agent, BatchPolicy policy, AttackSettings settings, AttackBall ball,
                            torch::Generator& generator) {
  return [&agent, &generator, policy = std::move(policy), settings, ball = std::move(ball)](const torch::Tensor& obs) {
    const torch::Tensor perturbed = attack_observations(agent, obs, settings, ball, generator);
    return policy(perturbed.to(obs.scalar_type()));
  };
}

}  // namespace rlforge
