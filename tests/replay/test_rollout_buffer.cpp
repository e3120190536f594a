// GAE on a hand-built rollout with a termination and a truncation, against values worked out by hand.
#include <catch2/catch.hpp>

#include "rlforge/replay/rollout_buffer.h"

using namespace rlforge;

TEST_CASE("GAE matches hand-computed advantages, with termination and truncation", "[replay][gae]") {
  RolloutBufferConfig config;
  config.n_steps = 3;
  config.num_envs = 2;
  config.observation_shape = {1};
  RolloutBuffer buffer(config);
  const double gamma = 0.9, lambda = 0.8;
  // env 0: terminates at step 1. env 1: truncated at step 0, with V(final obs) = 2.0.
  const float rewards[3][2] = {{1, 0}, {1, 2}, {1, 3}};
  const float values[3][2] = {{0.5f, 1}, {0.6f, 1}, {0.7f, 1}};
  const float ended[3][2] = {{0, 1}, {1, 0}, {0, 0}};
  const float bootstrap[3][2] = {{0, static_cast<float>(gamma * 2.0)}, {0, 0}, {0, 0}};
  for (int t = 0; t < 3; ++t) {
    buffer.add_decision(torch::zeros({2, 1}), torch::zeros({2}, torch::kInt64), torch::zeros({2}),
                        torch::tensor({values[t][0], values[t][1]}));
    buffer.add_outcome(torch::tensor({rewards[t][0], rewards[t][1]}), torch::tensor({ended[t][0], ended[t][1]}),
                       torch::tensor({bootstrap[t][0], bootstrap[t][1]}));
  }
  REQUIRE(buffer.full());
  buffer.compute_advantages(torch::tensor({0.8f, 1.5f}), gamma, lambda);
  // env 0: t2: 1 + .9*.8 - .7 = 1.02; t1 (terminal): 1 - .6 = .4; t0: 1 + .9*.6 - .5 + .9*.8*.4 = 1.328
  // env 1: t2: 3 + .9*1.5 - 1 = 3.35; t1: 2 + .9 - 1 + .72*3.35 = 4.312; t0 (truncated): 1.8 - 1 = .8
  const float expected_adv[3][2] = {{1.328f, 0.8f}, {0.4f, 4.312f}, {1.02f, 3.35f}};
  const auto adv = buffer.advantages_by_step();
  const auto ret = buffer.returns_by_step();
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < 2; ++i) {
      INFO("step " << t << ", env " << i);
      CHECK(adv[t][i].item<float>() == Approx(expected_adv[t][i]).epsilon(1e-5));
      CHECK(ret[t][i].item<float>() == Approx(expected_adv[t][i] + values[t][i]).epsilon(1e-5));
    }
  }
  // Flattened views are step-major: row t * num_envs + i.
  CHECK(buffer.advantages()[3].item<float>() == Approx(4.312f).epsilon(1e-5));
}

TEST_CASE("the rollout buffer refuses misuse", "[replay]") {
  RolloutBufferConfig config;
  config.n_steps = 1;
  config.num_envs = 1;
  config.observation_shape = {2};
  RolloutBuffer buffer(config);
  CHECK_THROWS_AS(buffer.compute_advantages(torch::zeros({1}), 0.99, 0.95), std::logic_error);
  CHECK_THROWS_AS(buffer.add_outcome(torch::zeros({1}), torch::zeros({1}), torch::zeros({1})), std::logic_error);
  buffer.add_decision(torch::zeros({1, 2}), torch::zeros({1}, torch::kInt64), torch::zeros({1}), torch::zeros({1}));
  buffer.add_outcome(torch::zeros({1}), torch::zeros({1}), torch::zeros({1}));
  CHECK_THROWS_AS(buffer.add_decision(torch::zeros({1, 2}), torch::zeros({1}, torch::kInt64), torch::zeros({1}), torch::zeros({1})),
                  std::logic_error);
  config.n_steps = 0;
  CHECK_THROWS_AS(RolloutBuffer(config), std::invalid_argument);
}
