// A non-finite loss or gradient stops a PPO update before the optimiser steps with it, on both
// gradient paths (hand-derived and autograd): the weights are those from before the failing
// minibatch, and Adam's state is not poisoned.
#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

#include "rlforge/agents/ppo.h"

using namespace rlforge;

namespace {

const EnvSpec kSpec{"test", Space::box({4}, -1.0f, 1.0f), Space::discrete(3), 0, {}};

PpoConfig config_for(bool manual, int64_t n_epochs, double learning_rate) {
  PpoConfig c;
  c.policy.actor.hidden = c.policy.critic.hidden = {16, 16};
  c.n_steps = 64;
  c.batch_size = 64;  // one minibatch per epoch
  c.n_epochs = n_epochs;
  c.learning_rate = learning_rate;
  c.manual_gradient = manual;
  return c;
}

// A rollout of 64 random steps that agrees with the policy's own log-probabilities and values.
RolloutBatch batch_for(Ppo& ppo) {
  torch::manual_seed(21);
  RolloutBatch b;
  b.observations = torch::rand({64, 4}) * 2 - 1;
  b.actions = torch::randint(0, 3, {64}, torch::kInt64);
  torch::NoGradGuard no_grad;
  const auto e = ppo.policy()->evaluate(b.observations, b.actions);
  b.log_probs = e.log_prob;
  b.values = e.value;
  b.advantages = torch::randn({64});
  b.returns = b.values + b.advantages;
  return b;
}

std::vector<torch::Tensor> weights(Ppo& ppo) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ppo.policy()->parameters()) out.push_back(p.detach().clone());
  return out;
}

bool all_finite(const std::vector<torch::Tensor>& w) {
  for (const auto& t : w) {
    if (!torch::isfinite(t).all().item<bool>()) return false;
  }
  return true;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a NaN advantage stops the PPO update before any weight changes", "[agents][ppo][nan]") {
  for (const bool manual : {true, false}) {
    INFO((manual ? "hand-derived gradient" : "autograd"));
    Ppo ppo(kSpec, config_for(manual, 3, 3e-4), 1);
    REQUIRE(ppo.uses_manual_gradient() == manual);
    RolloutBatch bad = batch_for(ppo);
    bad.advantages[17] = std::numeric_limits<float>::quiet_NaN();
    const auto before = weights(ppo);
    std::string error;
    try {
      ppo.update(bad, 1.0);
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    CHECK_THAT(error, Catch::Contains("PPO update: the policy loss is NaN") &&
                          Catch::Contains("epoch 1, minibatch 1") && Catch::Contains("not updated"));
    CHECK(same(weights(ppo), before));

    // Adam's moments did not take the NaN either: a good update afterwards is finite and the
    // same as a fresh learner's (one minibatch per epoch, so the permutation order does not matter
    // beyond rounding).
    Ppo fresh(kSpec, config_for(manual, 3, 3e-4), 1);
    const RolloutBatch good = batch_for(fresh);
    ppo.update(good, 1.0);
    fresh.update(good, 1.0);
    const auto after = weights(ppo), expected = weights(fresh);
    REQUIRE(all_finite(after));
    for (std::size_t i = 0; i < after.size(); ++i) CHECK(torch::allclose(after[i], expected[i], 1e-4, 1e-6));
  }
}

TEST_CASE("a diverging PPO update keeps the weights of its last finite minibatch", "[agents][ppo][nan]") {
  // A learning rate of 1e30 makes Adam's first step ~1e30 per weight: still finite, but the next
  // minibatch's values (~1e31) square to infinity in float32.
  for (const bool manual : {true, false}) {
    INFO((manual ? "hand-derived gradient" : "autograd"));
    Ppo one_epoch(kSpec, config_for(manual, 1, 1e30), 2);
    Ppo two_epochs(kSpec, config_for(manual, 2, 1e30), 2);
    const RolloutBatch batch = batch_for(one_epoch);
    one_epoch.update(batch, 1.0);  // the first minibatch alone
    const auto after_first = weights(one_epoch);
    REQUIRE(all_finite(after_first));

    std::string error;
    try {
      two_epochs.update(batch, 1.0);
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    CHECK_THAT(error, Catch::Contains("PPO update: ") && Catch::Contains("epoch 2, minibatch 1"));
    // Exactly the weights after the first minibatch: the second never stepped.
    CHECK(same(weights(two_epochs), after_first));
  }
}
