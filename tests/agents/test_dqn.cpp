// DQN's parts: target updates, TD targets (plain and double), the epsilon schedule, the
// hand-written gradient against autograd, and save/load.
#include <catch2/catch.hpp>

#include "rlforge/agents/dqn.h"
#include "rlforge/envs/registry.h"
#include "rlforge/replay/replay_buffer.h"

using namespace rlforge;

namespace {

EnvSpec cartpole() { return make_env("CartPole-v1")->spec(); }

std::vector<torch::Tensor> values_of(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

// A batch of CartPole-shaped transitions, fixed values.
ReplaySample batch_of(int64_t b, uint64_t seed) {
  torch::manual_seed(seed);
  ReplaySample s;
  s.observations = torch::randn({b, 4});
  s.next_observations = torch::randn({b, 4});
  s.actions = torch::randint(2, {b}, torch::kInt64);
  s.rewards = torch::rand({b});
  s.dones = (torch::rand({b}) < 0.2).to(torch::kFloat32);
  s.discounts = 0.99f * (1 - s.dones);
  s.indices = torch::arange(b, torch::kInt64);
  s.weights = torch::rand({b}) * 0.5 + 0.5;
  return s;
}

// Moves the online network away from the target by a few updates.
void train_a_little(Dqn& dqn) {
  for (int i = 0; i < 3; ++i) dqn.gradient_step(batch_of(16, 100 + i));
}

}  // namespace

TEST_CASE("DQN hard target update copies the weights", "[dqn]") {
  DqnConfig c;
  c.tau = 1.0;
  Dqn dqn(cartpole(), c, 1);
  const auto before = values_of(*dqn.target_network());
  train_a_little(dqn);
  const auto online = values_of(*dqn.q_network());
  auto target = values_of(*dqn.target_network());
  for (std::size_t i = 0; i < before.size(); ++i) CHECK(torch::equal(target[i], before[i]));  // untouched by training
  CHECK_FALSE(torch::equal(online[0], before[0]));
  dqn.update_target();
  target = values_of(*dqn.target_network());
  for (std::size_t i = 0; i < online.size(); ++i) CHECK(torch::equal(target[i], online[i]));
}

TEST_CASE("DQN soft target update averages with tau", "[dqn]") {
  DqnConfig c;
  c.tau = 0.25;
  Dqn dqn(cartpole(), c, 2);
  train_a_little(dqn);
  const auto online = values_of(*dqn.q_network());
  const auto old_target = values_of(*dqn.target_network());
  dqn.update_target();
  const auto target = values_of(*dqn.target_network());
  for (std::size_t i = 0; i < online.size(); ++i) {
    CHECK(torch::allclose(target[i], 0.25 * online[i] + 0.75 * old_target[i], 1e-6, 1e-7));
  }
}

TEST_CASE("DQN TD targets on a linear Q-network by hand", "[dqn]") {
  DqnConfig c;
  c.policy.mlp.hidden = {};  // Q(s) = W s + b
  for (const bool double_q : {false, true}) {
    c.double_q = double_q;
    Dqn dqn(cartpole(), c, 3);
    {
      torch::NoGradGuard no_grad;
      auto online = dqn.q_network()->parameters();   // weight [2, 4], bias [2]
      auto target = dqn.target_network()->parameters();
      online[0].copy_(torch::tensor({{1.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.0f, 0.0f}}));
      online[1].copy_(torch::tensor({0.0f, 0.0f}));
      target[0].copy_(torch::tensor({{2.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 3.0f, 0.0f, 0.0f}}));
      target[1].copy_(torch::tensor({0.5f, -0.5f}));
    }
    // Online Q(s) = (s0, s1); target Q'(s) = (2 s0 + 0.5, 3 s1 - 0.5).
    ReplaySample b;
    b.next_observations = torch::tensor({{1.0f, 2.0f, 0.0f, 0.0f},    // online picks 1; Q' = (2.5, 5.5)
                                         {3.0f, -1.0f, 0.0f, 0.0f},   // online picks 0; Q' = (6.5, -3.5)
                                         {0.2f, 0.3f, 0.0f, 0.0f},    // online picks 1; Q' = (0.9, 0.4)
                                         {1.0f, 1.0f, 0.0f, 0.0f}});  // terminated: no bootstrap
    b.rewards = torch::tensor({1.0f, -1.0f, 0.5f, 2.0f});
    b.discounts = torch::tensor({0.9f, 0.81f, 0.5f, 0.0f});
    const torch::Tensor y = dqn.td_targets(b);
    // Plain DQN bootstraps from max Q'; double DQN from Q' at the online network's choice,
    // which differs in the third row.
    const std::vector<float> expected{1 + 0.9f * 5.5f, -1 + 0.81f * 6.5f, 0.5f + 0.5f * (double_q ? 0.4f : 0.9f), 2.0f};
    for (int i = 0; i < 4; ++i) {
      INFO("double_q " << double_q << ", row " << i);
      CHECK(y[i].item<float>() == Approx(expected[static_cast<std::size_t>(i)]).epsilon(1e-6));
    }
  }
}

TEST_CASE("DQN epsilon schedule", "[dqn]") {
  DqnConfig c;
  c.exploration_initial_eps = 1.0;
  c.exploration_final_eps = 0.05;
  c.exploration_fraction = 0.1;
  CHECK(c.exploration_rate(0, 1000) == Approx(1.0));
  CHECK(c.exploration_rate(50, 1000) == Approx(0.525));
  CHECK(c.exploration_rate(99, 1000) == Approx(1.0 - 0.99 * 0.95));
  CHECK(c.exploration_rate(100, 1000) == Approx(0.05));
  CHECK(c.exploration_rate(1000, 1000) == Approx(0.05));
  c.exploration_fraction = 0;
  CHECK(c.exploration_rate(0, 1000) == Approx(0.05));
}

TEST_CASE("DQN epsilon-greedy actions", "[dqn]") {
  Dqn dqn(cartpole(), DqnConfig{}, 4);
  const std::vector<float> obs{0.1f, -0.2f, 0.03f, 0.4f, -0.1f, 0.2f, -0.03f, -0.4f};
  int64_t greedy[2], actions[2];
  dqn.act_epsilon(obs.data(), 2, 0.0, greedy);
  const torch::Tensor q = dqn.q_network()->forward(torch::tensor(obs).reshape({2, 4}));
  CHECK(greedy[0] == q[0].argmax().item<int64_t>());
  CHECK(greedy[1] == q[1].argmax().item<int64_t>());
  const torch::Tensor batch_greedy = dqn.act(torch::tensor(obs).reshape({2, 4}), true, dqn.generator());
  CHECK(batch_greedy[0].item<int64_t>() == greedy[0]);
  // With epsilon 1 every action is drawn: both actions turn up.
  int counts[2] = {0, 0};
  for (int i = 0; i < 200; ++i) {
    dqn.act_epsilon(obs.data(), 2, 1.0, actions);
    ++counts[actions[0]];
  }
  CHECK(counts[0] > 60);
  CHECK(counts[1] > 60);
}

TEST_CASE("DQN hand-written gradient matches autograd", "[dqn]") {
  for (const bool dueling : {false, true}) {
    for (const std::string loss : {"huber", "mse"}) {
      INFO("dueling " << dueling << ", loss " << loss);
      DqnConfig c;
      c.policy.mlp.hidden = {16, 8};
      c.policy.dueling = dueling;
      c.loss = loss;
      c.double_q = true;
      c.max_grad_norm = 0.5;  // the clip is part of what must agree
      c.manual_gradient = true;
      Dqn manual(cartpole(), c, 5);
      c.manual_gradient = false;
      Dqn autograd(cartpole(), c, 5);
      for (int step = 0; step < 3; ++step) {
        const ReplaySample b = batch_of(32, 10 + step);
        torch::Tensor td_m, td_a;
        double q_m = 0, q_a = 0;
        const double loss_m = manual.gradient_step(b, &td_m, &q_m);
        const double loss_a = autograd.gradient_step(b, &td_a, &q_a);
        CHECK(loss_m == Approx(loss_a).epsilon(1e-5));
        CHECK(q_m == Approx(q_a).epsilon(1e-5));
        CHECK(torch::allclose(td_m, td_a, 1e-5, 1e-5));
      }
      const auto pm = values_of(*manual.q_network()), pa = values_of(*autograd.q_network());
      for (std::size_t i = 0; i < pm.size(); ++i) CHECK(torch::allclose(pm[i], pa[i], 1e-4, 1e-5));
    }
  }
}

TEST_CASE("DQN update is SB3's: smooth L1 mean, clip_grad_norm_ to max_grad_norm, then torch Adam", "[dqn]") {
  // The fused clip + Adam pass (and the hand-written gradient) against LibTorch's own ops on a
  // plain copy of the network: Linear layers with LibTorch's default init, F.smooth_l1_loss (beta
  // 1, mean), nn.utils.clip_grad_norm_, optim.Adam with its default betas and eps.
  for (const bool manual_gradient : {true, false}) {
    INFO("manual_gradient " << manual_gradient);
    DqnConfig c;
    c.policy.mlp.hidden = {16, 8};
    c.learning_rate = 3e-3;
    c.max_grad_norm = 0.5;  // small enough that the clip is active
    c.manual_gradient = manual_gradient;
    Dqn dqn(cartpole(), c, 9);
    torch::nn::Sequential ref(torch::nn::Linear(4, 16), torch::nn::ReLU(), torch::nn::Linear(16, 8), torch::nn::ReLU(),
                              torch::nn::Linear(8, 2));
    {
      torch::NoGradGuard no_grad;
      const auto from = dqn.q_network()->parameters();
      auto to = ref->parameters();
      REQUIRE(from.size() == to.size());
      for (std::size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
    }
    torch::optim::Adam adam(ref->parameters(), torch::optim::AdamOptions(c.learning_rate));
    for (int step = 0; step < 4; ++step) {
      ReplaySample b = batch_of(32, 20 + step);
      b.weights = torch::ones({32});  // uniform replay
      const torch::Tensor y = dqn.td_targets(b);  // the target network does not move here
      const torch::Tensor q_sa = ref->forward(b.observations).gather(1, b.actions.unsqueeze(1)).squeeze(1);
      const torch::Tensor loss = torch::smooth_l1_loss(q_sa, y, at::Reduction::Mean, 1.0);
      adam.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(ref->parameters(), c.max_grad_norm);
      adam.step();
      CHECK(dqn.gradient_step(b) == Approx(loss.item<double>()).epsilon(1e-5));
    }
    const auto got = values_of(*dqn.q_network());
    const auto want = values_of(*ref);
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(torch::allclose(got[i], want[i], 1e-4, 1e-6));
    CHECK_FALSE(torch::allclose(got[0], values_of(*dqn.target_network())[0]));  // it did move
  }
}

TEST_CASE("DQN save and load round trip", "[dqn]") {
  DqnConfig c;
  c.policy.dueling = true;
  Dqn a(cartpole(), c, 6);
  train_a_little(a);
  a.update_target();
  train_a_little(a);
  torch::serialize::OutputArchive model, optimizer;
  a.save(model, optimizer);
  std::ostringstream model_bytes, optimizer_bytes;
  model.save_to(model_bytes);
  optimizer.save_to(optimizer_bytes);

  Dqn b(cartpole(), c, 7);
  torch::serialize::InputArchive model_in, optimizer_in;
  std::istringstream model_stream(model_bytes.str()), optimizer_stream(optimizer_bytes.str());
  model_in.load_from(model_stream);
  optimizer_in.load_from(optimizer_stream);
  b.load(model_in, optimizer_in);
  const auto qa = values_of(*a.q_network()), qb = values_of(*b.q_network());
  const auto ta = values_of(*a.target_network()), tb = values_of(*b.target_network());
  for (std::size_t i = 0; i < qa.size(); ++i) CHECK(torch::equal(qa[i], qb[i]));
  for (std::size_t i = 0; i < ta.size(); ++i) CHECK(torch::equal(ta[i], tb[i]));
  CHECK_FALSE(torch::equal(qa[0], ta[0]));
  // The optimiser state came along: the next step is the same in both.
  const ReplaySample batch = batch_of(16, 50);
  CHECK(a.gradient_step(batch) == b.gradient_step(batch));
  const auto qa2 = values_of(*a.q_network()), qb2 = values_of(*b.q_network());
  for (std::size_t i = 0; i < qa2.size(); ++i) CHECK(torch::equal(qa2[i], qb2[i]));
}

TEST_CASE("DQN refuses a continuous action space", "[dqn]") {
  CHECK_THROWS_WITH(Dqn(make_env("Pendulum-v1")->spec(), DqnConfig{}, 0),
                    Catch::Contains("DQN needs a Discrete action space") && Catch::Contains("Pendulum-v1"));
}

TEST_CASE("DQN Q-network on uint8 images", "[dqn]") {
  // CarRacing's 96x96x3 frames, channels last: the Nature CNN takes them as [3, 96, 96].
  EnvSpec spec = make_env("CarRacing-v3", {{"continuous", "false"}})->spec();
  DqnConfig c;
  c.policy.mlp.hidden = {};
  c.batch_size = 4;
  Dqn dqn(spec, c, 8);
  const torch::Tensor frames = torch::randint(0, 256, {2, 96, 96, 3}, torch::kUInt8);
  const torch::Tensor a = dqn.act(frames, true, dqn.generator());
  CHECK(a.sizes() == torch::IntArrayRef({2}));
  ReplaySample b;
  b.observations = torch::randint(0, 256, {4, 96, 96, 3}, torch::kUInt8);
  b.next_observations = torch::randint(0, 256, {4, 96, 96, 3}, torch::kUInt8);
  b.actions = torch::tensor({0, 1, 2, 4}, torch::kInt64);
  b.rewards = torch::ones({4});
  b.discounts = torch::full({4}, 0.99f);
  b.weights = torch::ones({4});
  CHECK(std::isfinite(dqn.gradient_step(b)));
}
