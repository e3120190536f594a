// Generalised state-dependent exploration: the noise is a fixed linear map of the actor's
// features between redraws, and its spread is the one the log-probabilities assume.
#include <catch2/catch.hpp>

#include <sstream>

#include "rlforge/agents/ppo.h"

using namespace rlforge;

namespace {
ActorCriticConfig sde_config() {
  ActorCriticConfig c;
  c.use_sde = true;
  c.log_std_init = -1.0;
  c.actor.hidden = c.critic.hidden = {16, 8};
  return c;
}
}  // namespace

TEST_CASE("gSDE noise is a function of the state until it is redrawn", "[agents][gsde]") {
  torch::manual_seed(4);
  ActorCritic policy(Space::box({3}, -1.0f, 1.0f), Space::box({2}, -1.0f, 1.0f), sde_config());
  REQUIRE(policy->log_std().sizes() == torch::IntArrayRef({8, 2}));
  CHECK_FALSE(policy->manual_gradient_supported());
  auto gen = at::detail::createCPUGenerator(9);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({4, 3});
  policy->reset_noise(4, gen);
  const torch::Tensor a1 = policy->act(x, false, gen).action;
  const torch::Tensor a2 = policy->act(x, false, gen).action;
  CHECK(torch::equal(a1, a2));  // same state, same noise weights: same action
  const torch::Tensor mean = policy->act(x, true, gen).action;
  CHECK_FALSE(torch::allclose(a1, mean));  // but it is perturbed
  policy->reset_noise(4, gen);
  CHECK_FALSE(torch::equal(policy->act(x, false, gen).action, a1));

  // The noise is saved with the model, and a loaded policy draws noise for any batch.
  std::stringstream saved;
  torch::save(policy, saved);
  ActorCritic loaded(Space::box({3}, -1.0f, 1.0f), Space::box({2}, -1.0f, 1.0f), sde_config());
  torch::load(loaded, saved);
  CHECK(torch::equal(loaded->act(x, false, gen).action, policy->act(x, false, gen).action));
  CHECK(loaded->act(x.narrow(0, 0, 3), false, gen).action.sizes() == torch::IntArrayRef({3, 2}));
}

TEST_CASE("gSDE actions spread as the log-probability assumes", "[agents][gsde]") {
  torch::manual_seed(5);
  ActorCritic policy(Space::box({3}, -1.0f, 1.0f), Space::box({2}, -1.0f, 1.0f), sde_config());
  auto gen = at::detail::createCPUGenerator(10);
  torch::NoGradGuard no_grad;
  // One state, 20000 independent noise draws.
  const int64_t n = 20000;
  const torch::Tensor x = torch::randn({1, 3}).expand({n, 3}).contiguous();
  policy->reset_noise(n, gen);
  const auto d = policy->act(x, false, gen);
  const torch::Tensor mean = policy->act(x.narrow(0, 0, 1), true, gen).action;
  const torch::Tensor spread = (d.action - mean).std(0);
  // The distribution the log-probabilities use: log p(a) = sum over dims of log N(a; mean, s),
  // so s = exp(-(log p + 0.5 z^2 + log sqrt(2 pi))) per dim; recover s from the entropy instead:
  // H = sum(log s) + d * 0.5 log(2 pi e).
  const auto e = policy->evaluate(x.narrow(0, 0, 1), d.action.narrow(0, 0, 1));
  const double sum_log_s = e.entropy.item<double>() - 2 * 0.5 * std::log(2 * M_PI * M_E);
  const double empirical_sum_log_s = spread.log().sum().item<double>();
  CHECK(empirical_sum_log_s == Approx(sum_log_s).margin(0.03));  // 20000 draws: ~1% on each std
  // And the action's log-probability is that Gaussian's.
  const torch::Tensor z = (d.action.narrow(0, 0, 1) - mean) / spread;
  const double expected_log_prob = (-0.5 * z.pow(2)).sum().item<double>() - sum_log_s - std::log(2 * M_PI);
  CHECK(d.log_prob[0].item<double>() == Approx(expected_log_prob).margin(0.05));
}

TEST_CASE("gSDE needs continuous actions", "[agents][gsde]") {
  CHECK_THROWS_WITH(ActorCritic(Space::box({3}, -1.0f, 1.0f), Space::discrete(2), sde_config()),
                    Catch::Contains("Box action space"));
}
