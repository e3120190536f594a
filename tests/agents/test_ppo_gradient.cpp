// The hand-derived PPO gradient against autograd's, on the policy shapes the toolkit builds.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "rlforge/agents/fast_tanh.h"
#include "rlforge/agents/ppo.h"

using namespace rlforge;

namespace {

struct Case {
  const char* name;
  bool discrete, shared;
  std::vector<int64_t> hidden;
  const char* activation;
  double ent_coef, clip_range_vf;
};

PpoConfig config_for(const Case& k, bool manual) {
  PpoConfig c;
  c.policy.shared = k.shared;
  c.policy.actor.hidden = c.policy.critic.hidden = k.hidden;
  c.policy.actor.activation = c.policy.critic.activation = k.activation;
  c.policy.log_std_init = -0.3;
  c.ent_coef = k.ent_coef;
  c.clip_range_vf = k.clip_range_vf;
  c.vf_coef = 0.7;
  c.manual_gradient = manual;
  return c;
}

Ppo::Minibatch minibatch_for(Ppo& ppo, int64_t n, int64_t obs_dim) {
  torch::manual_seed(11);
  Ppo::Minibatch mb;
  mb.features = torch::randn({n, obs_dim});
  const bool discrete = ppo.policy()->discrete();
  mb.actions = discrete ? torch::randint(0, 3, {n}, torch::kInt64) : torch::randn({n, 2});
  torch::Tensor log_prob, value;
  {
    torch::NoGradGuard no_grad;
    const auto e = ppo.policy()->evaluate(mb.features, mb.actions);
    log_prob = e.log_prob;
    value = e.value;
  }
  // Old log-probabilities off by up to ~0.5 put ratios on both sides of the clip range; old
  // values off by up to ~0.3 do the same for the value clip.
  mb.old_log_probs = log_prob + 0.25 * torch::randn({n});
  mb.advantages = torch::randn({n});
  mb.old_values = value + 0.15 * torch::randn({n});
  mb.returns = torch::randn({n});
  return mb;
}

std::vector<torch::Tensor> gradients(Ppo& ppo) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ppo.policy()->parameters()) out.push_back(p.grad().clone());
  return out;
}

}  // namespace

TEST_CASE("the hand-derived PPO gradient equals autograd's", "[agents][ppo]") {
  const std::vector<Case> cases = {
      {"categorical, separate tanh", true, false, {64, 64}, "tanh", 0.0, 0.0},
      {"categorical, separate tanh, entropy, value clip", true, false, {32, 16}, "tanh", 0.05, 0.1},
      {"categorical, shared relu", true, true, {32, 32}, "relu", 0.01, 0.0},
      {"categorical, shared without hidden layers", true, true, {}, "tanh", 0.01, 0.0},
      {"gaussian, separate tanh, entropy, value clip", false, false, {64, 64}, "tanh", 0.01, 0.2},
      {"gaussian, shared relu", false, true, {16}, "relu", 0.0, 0.0},
  };
  for (const Case& k : cases) {
    SECTION(k.name) {
      const int64_t obs_dim = 5;
      const Space actions = k.discrete ? Space::discrete(3) : Space::box({2}, -1.0f, 1.0f);
      const EnvSpec spec{"test", Space::box({obs_dim}, -1.0f, 1.0f), actions, 0, {}};
      Ppo manual(spec, config_for(k, true), 3);
      Ppo autograd(spec, config_for(k, false), 3);
      REQUIRE(manual.uses_manual_gradient());
      REQUIRE_FALSE(autograd.uses_manual_gradient());
      const Ppo::Minibatch mb = minibatch_for(manual, 96, obs_dim);

      bool over = false;
      const torch::Tensor manual_stats = manual.compute_gradient(mb, 0.2, 0.0, over);
      const torch::Tensor autograd_stats = autograd.compute_gradient(mb, 0.2, 0.0, over);
      CHECK(torch::allclose(manual_stats, autograd_stats, 1e-4, 1e-6));
      // The minibatch exercises both sides of the clip.
      const double clip_fraction = manual_stats[4].item<double>();
      CHECK(clip_fraction > 0.05);
      CHECK(clip_fraction < 0.95);

      const auto a = gradients(manual), b = gradients(autograd);
      REQUIRE(a.size() == b.size());
      double largest = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        INFO("parameter " << i << " of shape " << a[i].sizes());
        CHECK(torch::allclose(a[i], b[i], 1e-3, 1e-6));
        largest = std::max(largest, b[i].abs().max().item<double>());
      }
      CHECK(largest > 1e-3);  // the comparison is not between zeros
    }
  }
}

TEST_CASE("a PPO update takes the same step with either gradient", "[agents][ppo]") {
  const EnvSpec spec{"test", Space::box({4}, -1.0f, 1.0f), Space::discrete(3), 0, {}};
  const Case k{"", true, false, {64, 64}, "tanh", 0.01, 0.0};
  Ppo manual(spec, config_for(k, true), 5);
  Ppo autograd(spec, config_for(k, false), 5);
  torch::manual_seed(2);
  const int64_t n = 128;
  const RolloutBatch batch{torch::randn({n, 4}), torch::randint(0, 3, {n}, torch::kInt64),
                           torch::full({n}, std::log(1.0 / 3.0)) + 0.1 * torch::randn({n}),
                           torch::randn({n}), torch::randn({n}), torch::randn({n})};
  const PpoMetrics ma = manual.update(batch, 1.0);
  const PpoMetrics mb = autograd.update(batch, 1.0);
  CHECK(ma.minibatches == mb.minibatches);
  CHECK(ma.policy_loss == Approx(mb.policy_loss).margin(1e-5));
  CHECK(ma.value_loss == Approx(mb.value_loss).epsilon(1e-4));
  const auto pa = manual.policy()->parameters(), pb = autograd.policy()->parameters();
  for (size_t i = 0; i < pa.size(); ++i) CHECK(torch::allclose(pa[i], pb[i], 1e-4, 1e-5));
}

TEST_CASE("fast_tanh stays within 1e-6 of tanh and keeps NaN", "[agents][network]") {
  std::vector<float> x;
  for (int i = -200000; i <= 200000; ++i) x.push_back(static_cast<float>(i) * 1e-4f);  // [-20, 20]
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(-std::numeric_limits<float>::infinity());
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  std::vector<float> y = x;
  fast_tanh(y.data(), static_cast<int64_t>(y.size()));
  double worst = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) worst = std::max(worst, std::abs(double(y[i]) - std::tanh(double(x[i]))));
  CHECK(worst < 1e-6);
  CHECK(std::isnan(y.back()));
  CHECK(y[y.size() - 3] == Approx(1.0).margin(1e-6));
  CHECK(y[y.size() - 2] == Approx(-1.0).margin(1e-6));
}
