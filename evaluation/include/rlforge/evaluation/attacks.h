#pragma once
// Adversarial observations: FGSM (Goodfellow et al. 2015) and PGD (Madry et al. 2018) within an
// L-infinity ball around the observation the env gave, as SA-PPO (Zhang et al. 2020) evaluates
// agents. The ball's radius is epsilon times a per-element scale: the observation standard
// deviation for vectors (so epsilon is in units of it), 1 for images (epsilon in pixel levels).
// Perturbed observations also stay inside the observation space's finite bounds, and images stay
// whole pixel levels.
//
// Objectives (maximised by the attacker):
//   action  untargeted against the action the agent takes on the clean observation: Discrete,
//           the cross-entropy of the perturbed logits (Q-values for DQN) to that action; Box,
//           the squared distance of the perturbed deterministic action from the clean one
//   value   minus the critic's estimate of the observation (the agent is made to think it is
//           doing worse than it is)

#include <torch/torch.h>

#include <string>

#include "rlforge/agents/agent.h"
#include "rlforge/envs/space.h"
#include "rlforge/evaluation/evaluation.h"

namespace rlforge {

struct AttackSettings {
  enum class Method { Fgsm, Pgd };
  enum class Objective { Action, Value };
  Method method = Method::Pgd;
  Objective objective = Objective::Action;
  double epsilon = 0.0;  // the ball's radius, in units of the per-element scale
  int steps = 10;        // PGD's steps
  // PGD's step as a fraction of epsilon; 0: 2.5 / steps, Madry et al.'s choice.
  double step_size = 0.0;
  // PGD starts from a uniform point in the ball. FGSM always starts at the clean observation,
  // except against a Box action, whose squared distance has no gradient there: it starts from a
  // uniform point in the ball then, as R+FGSM (Tramer et al. 2018) does.
  bool random_start = true;

  static Method method_named(const std::string& name);        // fgsm, pgd
  static Objective objective_named(const std::string& name);  // action, value
  std::string describe() const;
};

// Where perturbed observations may lie: per element (tensors of the observation's shape) the
// radius scale and the space's bounds (-inf/+inf where it has none); and what the agent outputs.
struct AttackBall {
  torch::Tensor scale, low, high;
  bool integer = false;           // uint8 observations: whole levels
  bool discrete_actions = false;  // the agent's action output is logits or Q-values

  // `scale` empty: 1 for every element; else one value per observation element.
  static AttackBall for_spec(const EnvSpec& spec, const torch::Tensor& scale = {});
};

// The attacker's objective for each row of `perturbed` [B, ...] float32, given the agent's
// outputs on the clean observations (`clean`, from differentiable_outputs): [B].
torch::Tensor attack_objective(Agent& agent, const AttackSettings& settings, const AttackBall& ball,
                               const Agent::Outputs& clean, const torch::Tensor& perturbed);

// Perturbed observations [B, ...] float32 for raw observations [B, ...] (the env's dtype).
torch::Tensor attack_observations(Agent& agent, const torch::Tensor& observations, const AttackSettings& settings,
                                  const AttackBall& ball, torch::Generator& generator);

// A policy that acts on attacked observations: `policy` is given them in the env's dtype.
BatchPolicy attacked_policy(Agent& agent, BatchPolicy policy, AttackSettings settings, AttackBall ball,
                            torch::Generator& generator);

}  // namespace rlforge
