// Agent::certify_actions: a row it certifies keeps its action against every observation in the
// box, so neither random points, the box's corners nor a PGD attack may change it there; the
// share certified falls as the box grows; agents it cannot bound say so with an undefined tensor.
#include <catch2/catch.hpp>

#include "rlforge/agents/dqn.h"
#include "rlforge/agents/ppo.h"

using namespace rlforge;

namespace {

const EnvSpec kDiscrete{"test", Space::box({6}, -100.0f, 100.0f), Space::discrete(3), 0, {}};
const EnvSpec kContinuous{"test", Space::box({6}, -100.0f, 100.0f), Space::box({2}, -1.0f, 1.0f), 0, {}};

// Raw observations far from the unit scale (per element means 1..6, spreads 0.5..3), so that a
// policy that normalises its input sees a box of another shape than the raw one.
torch::Tensor raw_observations(int64_t n) {
  torch::manual_seed(17);
  const torch::Tensor spread = torch::linspace(0.5, 3.0, 6), centre = torch::linspace(1.0, 6.0, 6);
  return torch::randn({n, 6}) * spread + centre;
}

double share(Agent& agent, const torch::Tensor& x, const torch::Tensor& radius) {
  return agent.certify_actions(x, radius).to(torch::kFloat64).mean().item<double>();
}

struct Flips {
  torch::Tensor certified_rows, flipped;  // [B] bool
  int64_t certified_flipped = 0;
};

// Every row's deterministic action at 100 random points and corners of the box around it and after
// a 20-step PGD attack (cross-entropy of the perturbed scores to the clean action, ascended).
Flips attack_the_box(Agent& agent, const torch::Tensor& x, const torch::Tensor& radius) {
  torch::Generator generator = at::detail::createCPUGenerator(5);
  const torch::Tensor certified = agent.certify_actions(x, radius);
  const torch::Tensor clean = agent.act(x, true, generator);
  torch::Tensor flipped = torch::zeros({x.size(0)}, torch::kBool);
  torch::manual_seed(3);
  for (int k = 0; k < 100; ++k) {
    const torch::Tensor u = torch::rand(x.sizes()) * 2 - 1;
    const torch::Tensor offset = (k % 2 ? u : u.sign()) * radius;
    flipped |= agent.act(x + offset, true, generator) != clean;
  }
  torch::Tensor adv = x + (torch::rand(x.sizes()) * 2 - 1) * radius;
  for (int k = 0; k < 20; ++k) {
    const torch::Tensor leaf = adv.detach().requires_grad_(true);
    const torch::Tensor scores = agent.differentiable_outputs(leaf).action;
    const torch::Tensor loss = torch::nn::functional::cross_entropy(scores, clean);
    const torch::Tensor g = torch::autograd::grad({loss}, {leaf})[0];
    adv = torch::max(torch::min(leaf.detach() + 0.25 * radius * g.sign(), x + radius), x - radius);
  }
  flipped |= agent.act(adv, true, generator) != clean;
  return {certified, flipped, (flipped & certified).sum().item<int64_t>()};
}

// What every boundable agent must show: all rows certified at radius 0, the share falling as the
// box grows (radii doubling from 0.001 to 4 observation spreads), no certified row ever moved by a
// point of its box, and rows that were certified in a small box moved by the attacks in a larger
// one (so that the attacks could have caught a wrong certificate).
void check_certificates(Agent& agent) {
  const torch::Tensor x = raw_observations(256);
  const torch::Tensor spread = std::get<0>(torch::std_mean(x, 0, false));
  CHECK(share(agent, x, torch::zeros({6})) == 1.0);
  double previous = 1.0;
  int64_t certified_then_moved = 0;
  torch::Tensor certified_before = torch::zeros({x.size(0)}, torch::kBool);
  for (double eps = 0.001; eps < 5; eps *= 2) {
    const torch::Tensor radius = spread * eps;
    const double s = share(agent, x, radius);
    INFO("eps " << eps << ": certified share " << s);
    CHECK(s <= previous);
    previous = s;
    const Flips f = attack_the_box(agent, x, radius);
    CHECK(f.certified_flipped == 0);
    certified_then_moved = std::max(certified_then_moved, (f.flipped & certified_before).sum().item<int64_t>());
    certified_before |= f.certified_rows;
  }
  CHECK(certified_then_moved > 0);
  CHECK(previous == 0.0);
}

// A linear policy's bound is exact (the worst point of the box is the corner the sign of each
// score difference picks), so the attacks must move nearly every row it does not certify: a bound
// that were too optimistic would show as certified rows moved, one too cautious as rows left
// unmoved. Returns the share of uncertified rows the attacks moved, at the radius (doubling from
// 0.001 spreads) where the share certified first falls to a half or below.
double moved_where_not_certified(Agent& agent) {
  const torch::Tensor x = raw_observations(256);
  const torch::Tensor spread = std::get<0>(torch::std_mean(x, 0, false));
  for (double eps = 0.001; eps < 100; eps *= 2) {
    const torch::Tensor radius = spread * eps;
    if (share(agent, x, radius) > 0.5) continue;
    const Flips f = attack_the_box(agent, x, radius);
    CHECK(f.certified_flipped == 0);
    const torch::Tensor uncertified = ~f.certified_rows;
    return (f.flipped & uncertified).sum().item<double>() / uncertified.sum().item<double>();
  }
  return 0.0;
}

void sharpen(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.mul_(3.0);
}

}  // namespace

TEST_CASE("PPO's certified actions hold against every point of the raw box, through normalisation", "[agents][ppo][adversarial][certify]") {
  for (const std::string activation : {"tanh", "relu", "elu"}) {
    for (const bool shared : {false, true}) {
      PpoConfig c;
      c.policy.actor.activation = c.policy.critic.activation = activation;
      c.policy.shared = shared;
      c.policy.normalize_observation = true;
      Ppo ppo(kDiscrete, c, 5);
      ppo.policy()->prepare(raw_observations(4096), /*update_statistics=*/true);
      sharpen(*ppo.policy());
      INFO(activation << (shared ? ", shared trunk" : ", separate networks"));
      check_certificates(ppo);
    }
  }
}

TEST_CASE("DQN's certified actions hold against every point of the box, dueling or not", "[agents][dqn][adversarial][certify]") {
  for (const bool dueling : {false, true}) {
    DqnConfig c;
    c.policy.dueling = dueling;
    Dqn dqn(kDiscrete, c, 7);
    sharpen(*dqn.q_network());
    INFO((dueling ? "dueling" : "plain") << " Q-network");
    check_certificates(dqn);
  }
}

TEST_CASE("a linear policy's certificate is exact: the attacks move the rows it leaves out", "[agents][adversarial][certify]") {
  PpoConfig c;
  c.policy.actor.hidden = c.policy.critic.hidden = {};
  c.policy.normalize_observation = true;
  Ppo ppo(kDiscrete, c, 5);
  ppo.policy()->prepare(raw_observations(4096), /*update_statistics=*/true);
  sharpen(*ppo.policy());
  CHECK(moved_where_not_certified(ppo) > 0.9);
  for (const bool dueling : {false, true}) {
    DqnConfig d;
    d.policy.mlp.hidden = {};
    d.policy.dueling = dueling;
    Dqn dqn(kDiscrete, d, 7);
    INFO((dueling ? "dueling" : "plain") << " Q-network");
    CHECK(moved_where_not_certified(dqn) > 0.9);
  }
}

TEST_CASE("agents that cannot bound their policy certify nothing", "[agents][certify]") {
  const torch::Tensor x = raw_observations(4), radius = torch::full({6}, 0.1);
  PpoConfig gaussian;
  Ppo continuous(kContinuous, gaussian, 1);
  CHECK_FALSE(continuous.certify_actions(x, radius).defined());
  PpoConfig gelu;
  gelu.policy.actor.activation = gelu.policy.critic.activation = "gelu";
  Ppo not_monotone(kDiscrete, gelu, 1);
  CHECK_FALSE(not_monotone.certify_actions(x, radius).defined());
  DqnConfig dqn_gelu;
  dqn_gelu.policy.mlp.activation = "gelu";
  Dqn q(kDiscrete, dqn_gelu, 1);
  CHECK_FALSE(q.certify_actions(x, radius).defined());
}
