// The PPO objective and the distributions against values worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "rlforge/agents/distributions.h"
#include "rlforge/agents/ppo.h"

using namespace rlforge;

TEST_CASE("the clipped surrogate takes the pessimistic side of the clip", "[agents][ppo]") {
  // ratios 1.5 (A=+1: clipped to 1.2), 0.5 (A=+1: unclipped 0.5 is lower), 1.5 (A=-1: 1.5 is worse),
  // 0.5 (A=-1: clipped 0.8 is worse)
  const torch::Tensor old_lp = torch::zeros({4}, torch::kFloat64);
  const torch::Tensor lp = torch::log(torch::tensor({1.5, 0.5, 1.5, 0.5}, torch::kFloat64));
  const torch::Tensor adv = torch::tensor({1.0, 1.0, -1.0, -1.0}, torch::kFloat64);
  const torch::Tensor v = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kFloat64);
  const torch::Tensor old_v = torch::tensor({0.0, 2.0, 3.5, 4.0}, torch::kFloat64);
  const torch::Tensor ret = torch::tensor({2.0, 2.0, 2.0, 2.0}, torch::kFloat64);
  const torch::Tensor ent = torch::tensor({0.5, 0.5, 1.0, 1.0}, torch::kFloat64);
  const PpoLoss l = ppo_loss(lp, old_lp, adv, v, old_v, ret, ent, 0.2, 0.0, 0.01, 0.5);
  // objective per sample: min(r*A, clip(r)*A) = 1.2, 0.5, -1.5, -0.8; loss = -mean = 0.15
  CHECK(l.policy_loss.item<double>() == Approx((-1.2 - 0.5 + 1.5 + 0.8) / 4));
  // MSE: (1-2)^2, 0, 1, 4 -> 1.5
  CHECK(l.value_loss.item<double>() == Approx(1.5));
  CHECK(l.entropy.item<double>() == Approx(0.75));
  CHECK(l.total.item<double>() == Approx(0.15 - 0.01 * 0.75 + 0.5 * 1.5));

  // Value clipping at 0.25 around the old values: predictions 0.25, 2, 3.25, 4 -> MSE
  const PpoLoss clipped = ppo_loss(lp, old_lp, adv, v, old_v, ret, ent, 0.2, 0.25, 0.0, 1.0);
  const double expected = (std::pow(0.25 - 2, 2) + 0 + std::pow(3.25 - 2, 2) + 4) / 4;
  CHECK(clipped.value_loss.item<double>() == Approx(expected));
}

TEST_CASE("Categorical and diagonal Gaussian log-probabilities and entropies", "[agents][distributions]") {
  const Categorical cat(torch::log(torch::tensor({{0.2, 0.3, 0.5}}, torch::kFloat64)));
  CHECK(cat.log_prob(torch::tensor({2}, torch::kInt64)).item<double>() == Approx(std::log(0.5)));
  CHECK(cat.entropy().item<double>() ==
        Approx(-(0.2 * std::log(0.2) + 0.3 * std::log(0.3) + 0.5 * std::log(0.5))));
  CHECK(cat.mode().item<int64_t>() == 2);

  const DiagGaussian g(torch::tensor({{0.0, 1.0}}, torch::kFloat64), torch::tensor({0.0, std::log(2.0)}, torch::kFloat64));
  // N(0.5; 0, 1) and N(0; 1, 2)
  const double expected = -0.5 * 0.25 - 0.5 * std::log(2 * M_PI) + (-0.5 * 0.25 - std::log(2.0) - 0.5 * std::log(2 * M_PI));
  CHECK(g.log_prob(torch::tensor({{0.5, 0.0}}, torch::kFloat64)).item<double>() == Approx(expected));
  CHECK(g.entropy().item<double>() == Approx(0.5 * std::log(2 * M_PI * M_E) * 2 + std::log(2.0)));

  // Sampling follows the distribution (mean and spread over many draws).
  auto gen = at::detail::createCPUGenerator(3);
  const DiagGaussian wide(torch::zeros({20000, 1}, torch::kFloat64) + 1.0, torch::tensor({std::log(0.5)}, torch::kFloat64));
  const torch::Tensor s = wide.sample(gen);
  CHECK(s.mean().item<double>() == Approx(1.0).margin(0.02));
  CHECK(s.std().item<double>() == Approx(0.5).margin(0.02));
}

TEST_CASE("PPO config validation names the bad value", "[agents][ppo]") {
  PpoConfig c;
  c.batch_size = 0;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("batch_size must be > 0"));
  c = PpoConfig{};
  c.gamma = 1.5;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("gamma"));
}

TEST_CASE("a shared trunk feeds both heads", "[agents][network]") {
  const Space obs = Space::box({4}, -1.0f, 1.0f);
  ActorCriticConfig separate_config;
  ActorCriticConfig shared_config;
  shared_config.shared = true;
  ActorCritic separate(obs, Space::discrete(2), separate_config);
  ActorCritic shared(obs, Space::discrete(2), shared_config);
  auto count = [](ActorCritic& net) {
    int64_t n = 0;
    for (const auto& p : net->parameters()) n += p.numel();
    return n;
  };
  // 4-64-64 trunk (4480 + 4160) + policy head 130 + value head 65, against two 4-64-64 MLPs with heads.
  CHECK(count(shared) == 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2 + 64 + 1);
  CHECK(count(separate) == 2 * (4 * 64 + 64 + 64 * 64 + 64) + 64 * 2 + 2 + 64 + 1);
  auto gen = at::detail::createCPUGenerator(1);
  const torch::Tensor x = torch::randn({5, 4});
  const auto d = shared->act(x, false, gen);
  CHECK(d.action.sizes() == torch::IntArrayRef{5});
  CHECK(d.value.sizes() == torch::IntArrayRef{5});
  // The value head's gradient reaches the trunk, which the policy reads too.
  shared->value(x).sum().backward();
  int64_t with_grad = 0;
  for (const auto& p : shared->parameters()) with_grad += p.grad().defined() && p.grad().abs().sum().item<double>() > 0;
  CHECK(with_grad == 6);  // trunk (2 layers x weight, bias) + value head (weight, bias)
}

TEST_CASE("a NaN in the update stops it with an error", "[agents][ppo]") {
  const EnvSpec spec{"test", Space::box({3}, -1.0f, 1.0f), Space::discrete(2), 0, {}};
  PpoConfig c;
  c.batch_size = 4;
  c.n_epochs = 1;
  Ppo ppo(spec, c, 0);
  const int64_t n = 8;
  RolloutBatch batch{torch::randn({n, 3}), torch::zeros({n}, torch::kInt64), torch::full({n}, std::log(0.5)),
                     torch::zeros({n}), torch::full({n}, NAN), torch::zeros({n})};
  CHECK_THROWS_WITH(ppo.update(batch, 1.0), Catch::Contains("NaN"));
}
