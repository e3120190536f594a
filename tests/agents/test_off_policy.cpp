// SAC, TD3 and TQC pieces against hand computations, and their hand-derived gradients against
// autograd's.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "rlforge/agents/off_policy.h"
#include "rlforge/replay/replay_buffer.h"

using namespace rlforge;

namespace {

const EnvSpec& pendulum_like() {
  static const EnvSpec spec{"test", Space::box({3}, -8.0f, 8.0f), Space::box({2}, -2.0f, 2.0f), 0, {}};
  return spec;
}

OffPolicyConfig small(const std::string& algo) {
  OffPolicyConfig c = OffPolicyConfig::defaults(algo);
  c.pi = {16, 8};
  c.qf = {16, 8};
  c.n_quantiles = 5;
  c.batch_size = 12;
  return c;
}

ReplaySample random_batch(int64_t b, uint64_t seed) {
  torch::manual_seed(seed);
  ReplaySample batch;
  batch.observations = torch::randn({b, 3});
  batch.next_observations = torch::randn({b, 3});
  batch.actions = torch::rand({b, 2}) * 2 - 1;
  batch.rewards = torch::randn({b});
  batch.discounts = torch::full({b}, 0.99f);
  batch.discounts[0] = 0.0f;  // one terminal transition
  return batch;
}

}  // namespace

TEST_CASE("squashed Gaussian log-probability matches a hand computation", "[off_policy]") {
  const torch::Tensor mean = torch::tensor({{0.3f, -1.2f}});
  const torch::Tensor log_std = torch::tensor({{-0.5f, 0.2f}});
  const torch::Tensor noise = torch::tensor({{1.1f, -0.4f}});
  const SquashedSample s = squashed_gaussian(mean, log_std, noise);
  double expected = 0;
  const double m[] = {0.3, -1.2}, ls[] = {-0.5, 0.2}, e[] = {1.1, -0.4};
  for (int i = 0; i < 2; ++i) {
    const double u = m[i] + std::exp(ls[i]) * e[i];
    const double a = std::tanh(u);
    CHECK(s.action[0][i].item<double>() == Approx(a).epsilon(1e-6));
    const double sigma = std::exp(ls[i]);
    const double gaussian = -0.5 * std::pow((u - m[i]) / sigma, 2) - std::log(sigma) - 0.5 * std::log(2 * M_PI);
    expected += gaussian - std::log(1 - a * a + 1e-6);
  }
  CHECK(s.log_prob.item<double>() == Approx(expected).epsilon(1e-5));
}

TEST_CASE("gSDE's squashed log-probability matches a hand computation", "[off_policy][sde]") {
  // Two features, two actions: u = mean + features @ weights, sigma_j^2 = sum_k f_k^2 s_kj^2 + 1e-6.
  const torch::Tensor mean = torch::tensor({{0.3f, -1.2f}});
  const torch::Tensor features = torch::tensor({{0.8f, -1.5f}});
  const torch::Tensor log_std = torch::tensor({{-0.5f, 0.2f}, {-1.0f, -2.0f}});
  const torch::Tensor weights = torch::tensor({{0.4f, -0.7f}, {1.3f, 0.1f}});
  const double m[] = {0.3, -1.2}, f[] = {0.8, -1.5}, ls[2][2] = {{-0.5, 0.2}, {-1.0, -2.0}},
               w[2][2] = {{0.4, -0.7}, {1.3, 0.1}};
  double expected = 0;
  std::vector<double> actions;
  for (int j = 0; j < 2; ++j) {
    double noise = 0, variance = 1e-6;
    for (int k = 0; k < 2; ++k) {
      noise += f[k] * w[k][j];
      variance += f[k] * f[k] * std::exp(2 * ls[k][j]);
    }
    const double a = std::tanh(m[j] + noise);
    actions.push_back(a);
    expected += -0.5 * noise * noise / variance - 0.5 * std::log(variance) - 0.5 * std::log(2 * M_PI) -
                std::log(1 - a * a + 1e-6);
  }
  SECTION("one exploration matrix for the batch") {
    const SquashedSample s = squashed_sde(mean, features, log_std, weights);
    for (int j = 0; j < 2; ++j) CHECK(s.action[0][j].item<double>() == Approx(actions[j]).epsilon(1e-6));
    CHECK(s.log_prob.item<double>() == Approx(expected).epsilon(1e-5));
  }
  SECTION("one matrix per row gives the same for that row") {
    const SquashedSample s = squashed_sde(mean, features, log_std, weights.unsqueeze(0));
    CHECK(s.log_prob.item<double>() == Approx(expected).epsilon(1e-5));
  }
}

TEST_CASE("Polyak update moves the target by tau", "[off_policy]") {
  const torch::Tensor target = torch::tensor({1.0f, 2.0f, -3.0f});
  const torch::Tensor online = torch::tensor({3.0f, 2.0f, 1.0f});
  polyak_update(target, online, 0.25);
  CHECK(torch::allclose(target, torch::tensor({1.5f, 2.0f, -2.0f})));
  polyak_update(target, online, 1.0);
  CHECK(torch::equal(target, online));
}

TEST_CASE("quantile Huber loss and TQC's truncation against hand values", "[off_policy][tqc]") {
  // One sample, one critic, two quantiles (fractions 0.25, 0.75), two target atoms.
  const torch::Tensor z = torch::tensor({0.0f, 2.0f}).view({1, 1, 2});
  const torch::Tensor y = torch::tensor({0.5f, -1.0f}).view({1, 2});
  // pairs (delta = y - z): z=0: 0.5 (huber 0.125, weight 0.25), -1 (huber 0.5, weight 0.75)
  //                        z=2: -1.5 (huber 1.0, weight 0.25), -3 (huber 2.5, weight 0.25)
  const double expected = (0.25 * 0.125 + 0.75 * 0.5 + 0.25 * 1.0 + 0.25 * 2.5) / 4.0;
  CHECK(quantile_huber_loss(z, y).item<double>() == Approx(expected).epsilon(1e-6));

  // Two critics [N=2, B=1, Q=3]; drop the top 1 per net: 6 pooled atoms, the 4 smallest kept.
  const torch::Tensor q = torch::tensor({5.0f, 1.0f, 3.0f, 0.0f, 4.0f, 2.0f}).view({2, 1, 3});
  CHECK(torch::equal(truncated_quantiles(q, 1), torch::tensor({0.0f, 1.0f, 2.0f, 3.0f}).view({1, 4})));
}

TEST_CASE("the hand-written quantile Huber gradient equals autograd's", "[off_policy][tqc]") {
  torch::manual_seed(3);
  const torch::Tensor z = (torch::randn({2, 7, 5}) * 2).requires_grad_(true);  // [N, B, Q]
  const torch::Tensor y = torch::randn({7, 8}) * 2;
  const torch::Tensor loss = quantile_huber_loss(z.permute({1, 0, 2}), y);
  loss.backward();
  torch::Tensor grad;
  const double value = quantile_huber_loss_backward(z.detach(), y, grad);
  CHECK(value == Approx(loss.item<double>()).epsilon(1e-5));
  CHECK(torch::allclose(grad, z.grad(), 1e-4, 1e-7));
}

TEST_CASE("the quantile Huber gradient is a plain loop's, bit for bit, at any width",
          "[off_policy][tqc]") {
  // The hand-written pass runs the quantiles as vector lanes (AVX-512, AVX2 or SSE, whichever the
  // CPU has); each quantile must still add its atoms in order, so the numbers cannot depend on
  // the CPU. The reference is the scalar loop, one quantile at a time (this file is built for
  // baseline x86-64, which has no fused multiply-add to round differently).
  auto scalar = [](const torch::Tensor& z, const torch::Tensor& y, torch::Tensor& grad) {
    const int64_t n = z.size(0), b = z.size(1), q = z.size(2), k = y.size(1);
    grad = torch::empty_like(z);
    auto za = z.accessor<float, 3>();
    auto ya = y.accessor<float, 2>();
    auto ga = grad.accessor<float, 3>();
    const double scale = 1.0 / static_cast<double>(n * b * q * k);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t s = 0; s < b; ++s) {
        for (int64_t j = 0; j < q; ++j) {
          const float tau = (static_cast<float>(j) + 0.5f) / static_cast<float>(q);
          float loss = 0, slope = 0;
          for (int64_t t = 0; t < k; ++t) {
            const float delta = ya[s][t] - za[i][s][j];
            const float a = std::fabs(delta);
            const float w = delta < 0 ? 1.0f - tau : tau;
            loss += w * (a > 1.0f ? a - 0.5f : 0.5f * delta * delta);
            slope += w * std::clamp(delta, -1.0f, 1.0f);
          }
          total += loss;
          ga[i][s][j] = static_cast<float>(-slope * scale);
        }
      }
    }
    return total * scale;
  };
  // The RL Zoo's sizes (2 critics of 25 quantiles, 46 atoms) and widths no vector divides.
  for (const auto& [n, b, q, k] :
       std::vector<std::array<int64_t, 4>>{{2, 64, 25, 46}, {3, 5, 17, 19}, {1, 3, 1, 2}}) {
    torch::manual_seed(static_cast<uint64_t>(q));
    const torch::Tensor z = torch::randn({n, b, q}) * 3;
    const torch::Tensor y = torch::randn({b, k}) * 3;
    torch::Tensor expected_grad, grad;
    const double expected = scalar(z, y, expected_grad);
    CHECK(quantile_huber_loss_backward(z, y, grad) == expected);
    CHECK(torch::equal(grad, expected_grad));
  }
}

TEST_CASE("hand-derived gradients equal autograd's for SAC, TD3 and TQC", "[off_policy][gradient]") {
  for (const std::string algo : {"sac", "td3", "tqc", "sac+gsde", "tqc+gsde"}) {
    for (const std::string activation : {"relu", "tanh"}) {
      DYNAMIC_SECTION(algo << " " << activation) {
        // With gSDE the critics' passes are by hand and the actor's by autograd.
        const bool sde = algo.find("+gsde") != std::string::npos;
        OffPolicyConfig c = small(algo.substr(0, 3));
        c.use_sde = sde;
        c.activation = activation;
        c.manual_gradient = true;
        OffPolicyAgent manual(pendulum_like(), c, 7);
        c.manual_gradient = false;
        OffPolicyAgent autograd(pendulum_like(), c, 7);
        REQUIRE(manual.uses_manual_gradient());
        REQUIRE_FALSE(autograd.uses_manual_gradient());
        const ReplaySample batch = random_batch(c.batch_size, 11);
        const auto [critic_m, actor_m] = manual.loss_gradients(batch);
        const auto [critic_a, actor_a] = autograd.loss_gradients(batch);
        CHECK(critic_m.abs().sum().item<double>() > 0);
        CHECK(actor_m.abs().sum().item<double>() > 0);
        INFO("critic max diff " << (critic_m - critic_a).abs().max().item<double>() << ", actor max diff "
                                << (actor_m - actor_a).abs().max().item<double>());
        CHECK(torch::allclose(critic_m, critic_a, 1e-4, 1e-5));
        CHECK(torch::allclose(actor_m, actor_a, 1e-4, 1e-5));
      }
    }
  }
}

TEST_CASE("the hand-derived pass over the first critics alone gives their outputs and input gradient", "[off_policy][gradient]") {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  CriticEnsemble critics(3, 5, std::vector<int64_t>{16, 8}, 1, std::string("relu"));
  const torch::Tensor x = torch::randn({12, 5});
  const torch::Tensor all = critics->forward_manual(x).clone();
  const torch::Tensor grad = torch::randn({3, 12, 1});
  grad[1].zero_();
  grad[2].zero_();
  const torch::Tensor input_grad_all = critics->backward_manual(grad, /*weight_grads=*/false, /*input_grad=*/true);
  const torch::Tensor first = critics->forward_manual(x, /*keep_inputs=*/true, /*critics=*/1);
  REQUIRE(first.sizes() == torch::IntArrayRef({1, 12, 1}));
  CHECK(torch::equal(first[0], all[0]));
  CHECK(torch::allclose(first[0], critics->forward_one(x, 0)));
  // The others' zero gradients added nothing: the first critic's input gradient, bit for bit.
  const torch::Tensor input_grad_first = critics->backward_manual(grad.narrow(0, 0, 1), false, true);
  CHECK(torch::equal(input_grad_first, input_grad_all));
  CHECK(input_grad_first.abs().sum().item<double>() > 0);
  // Weight gradients need every critic; a gradient for another count than the pass ran is refused.
  CHECK_THROWS_WITH(critics->backward_manual(grad.narrow(0, 0, 1), true, false), Catch::Contains("weight gradients need all 3"));
  CHECK_THROWS_WITH(critics->backward_manual(grad, false, true), Catch::Contains("3 critics' gradients for a forward_manual of 1"));
  CHECK_THROWS_WITH(critics->forward_manual(x, true, 4), Catch::Contains("critics must be in [1, 3], got 4"));
}

TEST_CASE("critics on several threads compute the same numbers as on one", "[off_policy][threads]") {
  auto flat = [](torch::nn::Module& m) {
    std::vector<torch::Tensor> parts;
    for (const auto& p : m.parameters()) parts.push_back(p.detach().reshape({-1}));
    return torch::cat(parts);
  };
  for (const std::string algo : {"sac", "td3", "tqc", "sac+gsde"}) {
    for (const int64_t critics : {2, 3}) {
      DYNAMIC_SECTION(algo << " with " << critics << " critics") {
        OffPolicyConfig c = small(algo.substr(0, 3));
        c.use_sde = algo.find("+gsde") != std::string::npos;
        c.n_critics = critics;
        c.activation = critics == 3 ? "tanh" : "relu";
        OffPolicyAgent one(pendulum_like(), c, 3);
        c.critic_threads = 2;
        OffPolicyAgent two(pendulum_like(), c, 3);
        CHECK(one.critic_threads() == 1);
        CHECK(two.critic_threads() == 2);
        OffPolicyMetrics m1, m2;
        // TD3's actor and targets move every second step: four steps cover both kinds.
        for (uint64_t step = 0; step < 4; ++step) {
          const ReplaySample batch = random_batch(c.batch_size, 20 + step);
          one.gradient_step(batch, m1);
          two.gradient_step(batch, m2);
        }
        CHECK(m1.critic_loss == m2.critic_loss);
        CHECK(m1.actor_loss == m2.actor_loss);
        CHECK(torch::equal(flat(*one.critic()), flat(*two.critic())));
        CHECK(torch::equal(flat(*one.critic_target()), flat(*two.critic_target())));
        CHECK(torch::equal(flat(*one.actor()), flat(*two.actor())));
        // And the parameters did move: the comparison is not of two untouched networks.
        OffPolicyAgent fresh(pendulum_like(), c, 3);
        CHECK_FALSE(torch::equal(flat(*one.critic()), flat(*fresh.critic())));
      }
    }
  }
  SECTION("autograd's path has no hand-derived passes to spread") {
    OffPolicyConfig c = small("sac");
    c.manual_gradient = false;
    c.critic_threads = 2;
    CHECK(OffPolicyAgent(pendulum_like(), c, 3).critic_threads() == 1);
  }
}

TEST_CASE("gSDE: the exploration matrix follows the state, trains its log-std, and is drawn per round", "[off_policy][sde]") {
  OffPolicyConfig c = small("sac");
  c.use_sde = true;
  c.log_std_init = -1.0;
  OffPolicyAgent agent(pendulum_like(), c, 5);
  REQUIRE(agent.actor()->sde());
  CHECK(agent.actor()->sde_log_std().sizes() == torch::IntArrayRef({8, 2}));
  CHECK(torch::all(agent.actor()->sde_log_std() == -1.0f).item<bool>());
  const torch::Tensor obs = torch::randn({3, 3});
  torch::Generator g = at::detail::createCPUGenerator(9);
  agent.reset_exploration(3, g);
  // Until the next draw the same observation gets the same action: the noise is a function of
  // the state, not of the step.
  const torch::Tensor a1 = agent.act_scaled(obs, false, g), a2 = agent.act_scaled(obs, false, g);
  CHECK(torch::equal(a1, a2));
  CHECK_FALSE(torch::allclose(a1, agent.act_scaled(obs, true, g)));
  agent.reset_exploration(3, g);
  CHECK_FALSE(torch::equal(a1, agent.act_scaled(obs, false, g)));
  // The deterministic action is tanh of the mean clipped to +-2.
  const torch::Tensor raw = agent.actor()->forward(obs.to(torch::kFloat32)) * 100;
  CHECK(torch::allclose(torch::tanh(agent.actor()->split(raw).first), torch::tanh(raw.clamp(-2.0, 2.0))));
  // The actor's gradient reaches its log-std.
  const auto [critic_grad, actor_grad] = agent.loss_gradients(random_batch(c.batch_size, 4));
  CHECK(agent.actor()->sde_log_std().grad().abs().sum().item<double>() > 0);
  // The exploration state goes out and comes back (evaluations put it back this way).
  const torch::Tensor state = agent.exploration_state();
  agent.reset_exploration(3, g);
  agent.restore_exploration_state(state);
  CHECK(torch::equal(agent.act_scaled(obs, false, g), agent.act_scaled(obs, false, g)));
}

TEST_CASE("TD3's targets: target actor with clipped smoothing noise, the smaller twin critic", "[off_policy][td3]") {
  OffPolicyConfig c = small("td3");
  c.target_policy_noise = 0.0;
  OffPolicyAgent agent(pendulum_like(), c, 5);
  const ReplaySample batch = random_batch(c.batch_size, 2);
  const torch::Tensor targets = agent.td_targets(batch);
  torch::NoGradGuard no_grad;
  const torch::Tensor next_actions = agent.actor_target()->deterministic(batch.next_observations);
  const torch::Tensor q = agent.critic_target()->forward(torch::cat({batch.next_observations, next_actions}, 1));
  const torch::Tensor expected = batch.rewards + batch.discounts * torch::min(q[0], q[1]).squeeze(-1);
  CHECK(torch::allclose(targets, expected, 1e-5, 1e-6));

  // With noise, every target action stays within noise_clip of the smooth one: the targets lie
  // between those of the extreme actions only if Q is monotone, so check the noise itself.
  c.target_policy_noise = 10.0;
  c.target_noise_clip = 0.05;
  OffPolicyAgent noisy(pendulum_like(), c, 5);
  const torch::Tensor smooth = noisy.td_targets(batch);
  CHECK_FALSE(torch::equal(smooth, expected));
  CHECK(torch::allclose(smooth, expected, 0.0, 0.5));
}

TEST_CASE("TD3 updates actor and targets every policy_delay critic updates", "[off_policy][td3]") {
  OffPolicyConfig c = small("td3");
  c.policy_delay = 2;
  OffPolicyAgent agent(pendulum_like(), c, 9);
  const ReplaySample batch = random_batch(c.batch_size, 4);
  auto snapshot = [](auto& module) {
    std::vector<torch::Tensor> out;
    for (const auto& p : module->parameters()) out.push_back(p.detach().clone());
    return out;
  };
  auto same = [](const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!torch::equal(a[i], b[i])) return false;
    }
    return true;
  };
  const auto actor0 = snapshot(agent.actor()), critic0 = snapshot(agent.critic());
  const auto actor_target0 = snapshot(agent.actor_target()), critic_target0 = snapshot(agent.critic_target());
  OffPolicyMetrics m;
  agent.gradient_step(batch, m);
  CHECK_FALSE(same(snapshot(agent.critic()), critic0));
  CHECK(same(snapshot(agent.actor()), actor0));
  CHECK(same(snapshot(agent.actor_target()), actor_target0));
  CHECK(same(snapshot(agent.critic_target()), critic_target0));
  CHECK(m.actor_updates == 0);
  agent.gradient_step(batch, m);
  CHECK_FALSE(same(snapshot(agent.actor()), actor0));
  CHECK_FALSE(same(snapshot(agent.actor_target()), actor_target0));
  CHECK_FALSE(same(snapshot(agent.critic_target()), critic_target0));
  CHECK(m.actor_updates == 1);
  CHECK(m.gradient_steps == 2);
}

TEST_CASE("SAC learns its entropy coefficient toward the target entropy", "[off_policy][sac]") {
  OffPolicyConfig c = small("sac");
  c.learning_rate = 0.01;
  OffPolicyAgent agent(pendulum_like(), c, 1);
  CHECK(agent.ent_coef() == Approx(1.0));
  const ReplaySample batch = random_batch(c.batch_size, 6);
  OffPolicyMetrics m;
  agent.gradient_step(batch, m);
  // The fresh policy's entropy is far above -dim(A) = -2: the coefficient must fall.
  CHECK(agent.ent_coef() < 1.0);

  c.ent_coef = "0.2";
  OffPolicyAgent fixed(pendulum_like(), c, 1);
  fixed.gradient_step(batch, m);
  CHECK(fixed.ent_coef() == Approx(0.2));
}

TEST_CASE("actions are squashed into the action space's bounds", "[off_policy]") {
  OffPolicyAgent agent(pendulum_like(), small("sac"), 2);
  const torch::Tensor obs = torch::randn({64, 3}) * 50;
  const torch::Tensor a = agent.act(obs, false, agent.generator());
  CHECK(a.sizes() == torch::IntArrayRef({64, 2}));
  CHECK(a.abs().max().item<float>() <= 2.0f);
  CHECK(torch::allclose(agent.to_env_actions(torch::tensor({{-1.0f, 1.0f}})), torch::tensor({{-2.0f, 2.0f}})));
}

TEST_CASE("off-policy configs refuse bad values", "[off_policy]") {
  OffPolicyConfig c = small("sac");
  c.ent_coef = "auto_x";
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("ent_coef"));
  c = small("tqc");
  c.top_quantiles_to_drop_per_net = 5;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("top_quantiles_to_drop_per_net"));
  c = small("td3");
  c.batch_size = 100;
  c.buffer_size = 50;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("buffer_size"));
  c = small("td3");
  c.use_sde = true;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("use_sde (gSDE) is for SAC and TQC"));
  c = small("sac");
  c.use_sde = true;
  c.pi.clear();
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("at least one hidden actor layer"));
  c = small("sac");
  c.sde_sample_freq = 0;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("sde_sample_freq"));
  c = small("sac");
  c.critic_threads = 0;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("critic_threads must be >= 1"));
  const EnvSpec discrete{"test", Space::box({3}, -1.0f, 1.0f), Space::discrete(2), 0, {}};
  CHECK_THROWS_WITH(OffPolicyAgent(discrete, small("sac"), 0), Catch::Contains("Box action space"));
}
