// Observation attacks (rlforge/evaluation/attacks.h): perturbations stay inside their ball and the
// observation space, and they raise the attacker's objective by what its gradient promises.
#include <catch2/catch.hpp>

#include <cmath>

#include "rlforge/agents/ppo.h"
#include "rlforge/envs/registry.h"
#include "rlforge/evaluation/attacks.h"

using namespace rlforge;

namespace {

EnvSpec spec_of(const std::string& id) { return make_env(id)->spec(); }

// Observations drawn near the start states: within a few tenths of 0 in every element.
torch::Tensor observations(int64_t batch, int64_t size, uint64_t seed) {
  torch::Generator g = at::detail::createCPUGenerator(seed);
  return (torch::rand({batch, size}, g) - 0.5) * 0.4;
}

double objective_sum(Agent& agent, const AttackSettings& s, const AttackBall& ball, const Agent::Outputs& clean,
                     const torch::Tensor& x) {
  return attack_objective(agent, s, ball, clean, x).sum().item<double>();
}

}  // namespace

TEST_CASE("attacks stay in the ball and the space, and raise the objective as the gradient promises",
          "[evaluation][attacks]") {
  const EnvSpec spec = spec_of("CartPole-v1");
  Ppo agent(spec, PpoConfig{}, 3);
  const torch::Tensor scale = torch::tensor({0.5f, 1.0f, 0.1f, 2.0f});
  const AttackBall ball = AttackBall::for_spec(spec, scale);
  const torch::Tensor x = observations(32, 4, 1);
  torch::Generator generator = at::detail::createCPUGenerator(5);
  Agent::Outputs clean = agent.differentiable_outputs(x);
  clean.action = clean.action.detach();

  for (const auto method : {AttackSettings::Method::Fgsm, AttackSettings::Method::Pgd}) {
    for (const auto objective : {AttackSettings::Objective::Action, AttackSettings::Objective::Value}) {
      AttackSettings s;
      s.method = method;
      s.objective = objective;
      s.epsilon = 0.2;
      INFO(s.describe());
      const torch::Tensor adv = attack_observations(agent, x, s, ball, generator);
      const torch::Tensor distance = (adv - x).abs() / scale;
      CHECK(distance.max().item<double>() <= 0.2 + 1e-6);
      // CartPole's bounds: |x| <= 4.8, |theta| <= 0.419.
      CHECK(adv.select(1, 2).abs().max().item<double>() <= 0.41887903 + 1e-6);
      CHECK(objective_sum(agent, s, ball, clean, adv) > objective_sum(agent, s, ball, clean, x));
    }
  }

  // FGSM's gain for a small radius is the first-order term: epsilon * sum |dJ/dx_i| * scale_i,
  // the gradient estimated here by central finite differences, not by autograd.
  AttackSettings fgsm;
  fgsm.method = AttackSettings::Method::Fgsm;
  fgsm.epsilon = 1e-3;
  const torch::Tensor one = x.narrow(0, 0, 1);
  Agent::Outputs clean_one = agent.differentiable_outputs(one);
  clean_one.action = clean_one.action.detach();
  double promised = 0;
  const double h = 1e-3;
  for (int64_t i = 0; i < 4; ++i) {
    const torch::Tensor step = torch::zeros({1, 4});
    step[0][i] = h;
    const double slope = (objective_sum(agent, fgsm, ball, clean_one, one + step) -
                          objective_sum(agent, fgsm, ball, clean_one, one - step)) / (2 * h);
    promised += std::abs(slope) * scale[i].item<double>() * fgsm.epsilon;
  }
  const torch::Tensor adv = attack_observations(agent, one, fgsm, ball, generator);
  const double gained = objective_sum(agent, fgsm, ball, clean_one, adv) - objective_sum(agent, fgsm, ball, clean_one, one);
  REQUIRE(promised > 0);
  CHECK(gained == Approx(promised).epsilon(0.05));

  // PGD from the same ball does at least as well as FGSM on average.
  AttackSettings pgd = fgsm;
  pgd.method = AttackSettings::Method::Pgd;
  fgsm.epsilon = pgd.epsilon = 0.3;
  const double by_fgsm = objective_sum(agent, fgsm, ball, clean, attack_observations(agent, x, fgsm, ball, generator));
  const double by_pgd = objective_sum(agent, pgd, ball, clean, attack_observations(agent, x, pgd, ball, generator));
  CHECK(by_pgd >= by_fgsm * 0.99);

  // Radius 0 changes nothing.
  AttackSettings none;
  none.epsilon = 0;
  CHECK(torch::equal(attack_observations(agent, x, none, ball, generator), x));
}

TEST_CASE("attacks on a Box action move the deterministic action", "[evaluation][attacks]") {
  const EnvSpec spec = spec_of("Pendulum-v1");
  Ppo agent(spec, PpoConfig{}, 4);
  const AttackBall ball = AttackBall::for_spec(spec);
  CHECK_FALSE(ball.discrete_actions);
  const torch::Tensor x = observations(16, 3, 2);
  torch::Generator generator = at::detail::createCPUGenerator(6);
  for (const auto method : {AttackSettings::Method::Fgsm, AttackSettings::Method::Pgd}) {
    AttackSettings s;
    s.method = method;
    s.epsilon = 0.1;
    const torch::Tensor adv = attack_observations(agent, x, s, ball, generator);
    CHECK((adv - x).abs().max().item<double>() <= 0.1 + 1e-6);
    const torch::Tensor moved = (agent.differentiable_outputs(adv).action - agent.differentiable_outputs(x).action).abs();
    CHECK(moved.sum().item<double>() > 0);
  }
}

TEST_CASE("attacks on images keep whole pixel levels within the radius", "[evaluation][attacks]") {
  EnvSpec spec;
  spec.id = "test/Images";
  spec.observation_space = Space::box({40, 40, 3}, 0.0f, 255.0f, DType::UInt8);
  spec.action_space = Space::discrete(3);
  Ppo agent(spec, PpoConfig{}, 7);
  const AttackBall ball = AttackBall::for_spec(spec);
  CHECK(ball.integer);
  torch::Generator g = at::detail::createCPUGenerator(8);
  const torch::Tensor frames = torch::randint(0, 256, {2, 40, 40, 3}, g, torch::kUInt8);
  AttackSettings s;
  s.epsilon = 3.7;  // whole levels: at most 3
  const torch::Tensor adv = attack_observations(agent, frames, s, ball, g);
  CHECK(torch::equal(adv, adv.round()));
  CHECK((adv - frames.to(torch::kFloat32)).abs().max().item<double>() <= 3.0);
  CHECK(adv.min().item<double>() >= 0);
  CHECK(adv.max().item<double>() <= 255);
}
