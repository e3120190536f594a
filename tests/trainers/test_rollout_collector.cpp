// RolloutCollector against hand-computed rollouts: a counting env whose episodes end after four
// steps (env 0 by the time limit, env 1 by terminating) and a critic whose weights the test sets,
// so that every reward, bootstrap and return is known in advance.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/agents/actor_critic.h"
#include "rlforge/envs/env.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/replay/rollout_buffer.h"
#include "rlforge/trainers/rollout_collector.h"

using namespace rlforge;

namespace {

constexpr int kLimit = 4;  // the time limit, and env 1's episode length

// Observation [1, t], t = steps into the episode. Env `index` earns index + 1 per step; env 1
// terminates at its 4th step (at the time limit too, so it is terminated, not truncated), env 0
// never terminates and is truncated there by the vector env.
class CountingEnv final : public Env {
 public:
  CountingEnv(int index, bool continuous) : Env(make_spec(continuous)), index_(index) {}

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    t_ = 0;
    write(obs);
  }
  StepResult step_impl(const void*, void* obs) override {
    ++t_;
    write(obs);
    return {static_cast<double>(index_ + 1), index_ == 1 && t_ >= kLimit, false};
  }

 private:
  static EnvSpec make_spec(bool continuous) {
    EnvSpec spec;
    spec.id = "Counting-v0";
    spec.observation_space = Space::box({2}, -100.0f, 100.0f);
    spec.action_space = continuous ? Space::box({1}, -1.0f, 1.0f) : Space::discrete(2);
    spec.max_episode_steps = kLimit;
    return spec;
  }
  void write(void* obs) const {
    auto* x = static_cast<float*>(obs);
    x[0] = 1.0f;
    x[1] = static_cast<float>(t_);
  }
  int index_;
  int t_ = 0;
};

std::unique_ptr<VectorEnv> counting_envs(bool continuous) {
  auto venv = std::make_unique<VectorEnv>(
      [continuous](int index) { return std::make_unique<CountingEnv>(index, continuous); }, 2, 1);
  venv->reset(uint64_t{0});
  return venv;
}

// A discrete policy with linear heads whose critic is V([1, t]) = 1 + 0.5 t.
ActorCritic controlled_policy(const EnvSpec& spec, bool normalize_reward) {
  ActorCriticConfig c;
  c.actor.hidden = c.critic.hidden = {};
  c.normalize_reward = normalize_reward;
  ActorCritic policy(spec.observation_space, spec.action_space, c);
  torch::NoGradGuard no_grad;
  int set = 0;
  for (auto& p : policy->named_parameters()) {
    if (p.key().rfind("critic.", 0) != 0) continue;
    if (p.value().dim() == 2) {
      p.value().copy_(torch::tensor({{1.0f, 0.5f}}));
    } else {
      p.value().zero_();
    }
    ++set;
  }
  REQUIRE(set == 2);
  return policy;
}

double value_of(int t) { return 1.0 + 0.5 * t; }

RolloutBuffer make_buffer(const VectorEnv& venv, const ActorCritic& policy, int64_t n_steps) {
  return RolloutBuffer(RolloutCollector::buffer_config(venv, n_steps, *policy));
}

}  // namespace

TEST_CASE("a truncated step bootstraps from V(final observation), a terminated one does not", "[rollout]") {
  auto venv = counting_envs(false);
  ActorCritic policy = controlled_policy(venv->spec(), false);
  {
    // The critic is what the hand computation assumes.
    torch::NoGradGuard no_grad;
    const torch::Tensor v = policy->value(torch::tensor({{1.0f, 4.0f}, {1.0f, 2.0f}}));
    REQUIRE(v[0].item<float>() == Approx(3.0));
    REQUIRE(v[1].item<float>() == Approx(2.0));
  }
  const double gamma = 0.9;
  RolloutCollector collector(*venv, gamma);
  RolloutBuffer buffer = make_buffer(*venv, policy, 6);
  auto gen = at::detail::createCPUGenerator(1);
  collector.collect(policy, gen, buffer, /*gae_lambda=*/1.0);  // lambda 1: returns are discounted sums

  // Both episodes end at step 3; steps 4 and 5 belong to the next ones, and V(obs after step 5,
  // t = 2) = 2 bootstraps the end of the rollout.
  // env 0 (reward 1, truncated at step 3: + 0.9 * V(t = 4) = 0.9 * 3 = 2.7):
  //   t5: 1 + .9*2 = 2.8; t4: 1 + .9*2.8 = 3.52; t3: 1 + 2.7 = 3.7; t2: 1 + .9*3.7 = 4.33;
  //   t1: 1 + .9*4.33 = 4.897; t0: 1 + .9*4.897 = 5.4073
  // env 1 (reward 2, terminated at step 3: nothing added):
  //   t5: 2 + .9*2 = 3.8; t4: 2 + .9*3.8 = 5.42; t3: 2; t2: 3.8; t1: 5.42; t0: 2 + .9*5.42 = 6.878
  const double expected[6][2] = {{5.4073, 6.878}, {4.897, 5.42}, {4.33, 3.8}, {3.7, 2.0}, {3.52, 5.42}, {2.8, 3.8}};
  const torch::Tensor returns = buffer.returns_by_step();
  for (int t = 0; t < 6; ++t) {
    for (int i = 0; i < 2; ++i) {
      INFO("step " << t << ", env " << i);
      CHECK(returns[t][i].item<double>() == Approx(expected[t][i]).epsilon(1e-5));
    }
  }
  // The stored values are V of what the policy saw, so advantage = return - V(obs_t).
  const torch::Tensor advantages = buffer.advantages_by_step();
  CHECK(advantages[3][0].item<double>() == Approx(3.7 - value_of(3)).epsilon(1e-5));
  CHECK(advantages[4][1].item<double>() == Approx(5.42 - value_of(0)).epsilon(1e-5));

  const auto episodes = collector.take_finished_episodes();
  REQUIRE(episodes.size() == 2);
  CHECK(episodes[0].episode_return == 4.0);
  CHECK(episodes[0].length == 4);
  CHECK(episodes[1].episode_return == 8.0);
  CHECK(collector.env_steps() == 12);
  CHECK(collector.take_finished_episodes().empty());
}

namespace {

// What SB3's VecNormalize does to the rewards of the counting envs, step by step, in doubles:
// the per-env discounted return takes the raw reward, the running statistics take the returns of
// this step, the reward is divided by the updated std (not centred), and the return restarts
// where the episode ended. Statistics start as RunningNorm's (mean 0, var 1, count 1e-4).
struct RewardScalingModel {
  double gamma;
  double mean = 0, var = 1, count = 1e-4;
  double discounted[2] = {0, 0};

  // Scaled rewards of one vector step whose raw rewards are {1, 2}; `ended` for both envs.
  std::vector<double> step(bool ended) {
    const double raw[2] = {1.0, 2.0};
    for (int i = 0; i < 2; ++i) discounted[i] = discounted[i] * gamma + raw[i];
    const double batch_mean = (discounted[0] + discounted[1]) / 2;
    const double batch_var = std::pow(discounted[0] - batch_mean, 2);  // of two values, biased
    const double total = count + 2;
    const double delta = batch_mean - mean;
    mean += delta * 2 / total;
    var = (var * count + batch_var * 2 + delta * delta * count * 2 / total) / total;
    count = total;
    std::vector<double> scaled = {raw[0] / std::sqrt(var + 1e-8), raw[1] / std::sqrt(var + 1e-8)};
    if (ended) discounted[0] = discounted[1] = 0;
    return scaled;
  }
};

}  // namespace

TEST_CASE("reward normalisation scales what the learner sees, as SB3's VecNormalize does", "[rollout]") {
  auto venv = counting_envs(false);
  ActorCritic policy = controlled_policy(venv->spec(), /*normalize_reward=*/true);
  const double gamma = 0.9;
  RolloutCollector collector(*venv, gamma);
  RolloutBuffer buffer = make_buffer(*venv, policy, 6);
  auto gen = at::detail::createCPUGenerator(2);
  RewardScalingModel model{gamma};
  const auto named = policy->named_buffers();

  // Two rollouts of 6 steps: statistics and discounted returns carry over between them.
  for (int rollout = 0; rollout < 2; ++rollout) {
    INFO("rollout " << rollout);
    collector.collect(policy, gen, buffer, /*gae_lambda=*/1.0);
    std::vector<std::vector<double>> scaled;
    std::vector<bool> ended;
    for (int t = 0; t < 6; ++t) {
      const int global = rollout * 6 + t;
      ended.push_back((global + 1) % kLimit == 0);
      scaled.push_back(model.step(ended.back()));
    }
    // Returns from the scaled rewards; the truncation bootstrap gamma * V(final) and the
    // end-of-rollout V are in the critic's units and are added unscaled (SB3 adds
    // gamma * V(terminal_observation) to the already normalised reward).
    const int t_after = (rollout * 6 + 6) % kLimit;
    double next[2] = {value_of(t_after), value_of(t_after)};
    const torch::Tensor returns = buffer.returns_by_step();
    for (int t = 5; t >= 0; --t) {
      for (int i = 0; i < 2; ++i) {
        double r = scaled[t][i];
        if (ended[t]) {
          r += i == 0 ? gamma * value_of(kLimit) : 0.0;  // env 0 truncated, env 1 terminated
        } else {
          r += gamma * next[i];
        }
        next[i] = r;
        INFO("step " << t << ", env " << i);
        CHECK(returns[t][i].item<double>() == Approx(r).epsilon(1e-5));
      }
    }
    // The statistics have taken every step's returns, and nothing else (the collector keeps the
    // returns in float32, hence the tolerance).
    CHECK(named["return_norm.count"].item<double>() == Approx(model.count).epsilon(1e-12));
    CHECK(named["return_norm.mean"].item<double>() == Approx(model.mean).epsilon(1e-6));
    CHECK(named["return_norm.var"].item<double>() == Approx(model.var).epsilon(1e-6));
    // The discounted returns the collector keeps (and checkpoints) are in raw reward units.
    const torch::Tensor kept = collector.discounted_returns();
    CHECK(kept[0].item<double>() == Approx(model.discounted[0]).epsilon(1e-6));
    CHECK(kept[1].item<double>() == Approx(model.discounted[1]).epsilon(1e-6));
    // The episodes reported (metrics, logs) are the env's raw returns.
    for (const auto& e : collector.take_finished_episodes()) {
      CHECK((e.episode_return == 4.0 || e.episode_return == 8.0));
    }
  }
  // The scaling did something: rewards end up divided by about 1.8.
  CHECK(std::sqrt(model.var) > 1.5);
}

namespace {

// The actions a gSDE policy takes on the stored features with each of the first `draws` noise
// draws of a generator seeded `seed`: result[j] is [n_steps * num_envs, 1].
std::vector<torch::Tensor> actions_per_draw(ActorCritic& policy, const torch::Tensor& features, uint64_t seed,
                                            int draws) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<torch::Tensor> out;
  const int64_t n_envs = 2;
  const torch::Tensor by_step = features.reshape({-1, n_envs, features.size(-1)});
  for (int j = 0; j < draws; ++j) {
    policy->reset_noise(n_envs, gen);
    std::vector<torch::Tensor> steps;
    for (int64_t t = 0; t < by_step.size(0); ++t) steps.push_back(policy->act(by_step[t], false, gen).action);
    out.push_back(torch::cat(steps));
  }
  return out;
}

}  // namespace

TEST_CASE("gSDE noise is fixed between redraws: every sde_sample_freq steps, or once per rollout", "[rollout][gsde]") {
  for (const int64_t freq : {int64_t{2}, int64_t{-1}}) {
    INFO("sde_sample_freq " << freq);
    torch::manual_seed(3);
    auto venv = counting_envs(true);
    ActorCriticConfig c;
    c.use_sde = true;
    c.sde_sample_freq = freq;
    c.log_std_init = -1.0;
    c.actor.hidden = c.critic.hidden = {8};
    ActorCritic policy(venv->spec().observation_space, venv->spec().action_space, c);
    RolloutCollector collector(*venv, 0.99);
    RolloutBuffer buffer = make_buffer(*venv, policy, 6);
    const uint64_t seed = 11;
    auto gen = at::detail::createCPUGenerator(seed);
    // Acting with gSDE draws nothing from the generator, so the collector's k-th noise draw is
    // the k-th reset_noise on a fresh generator with the same seed.
    const int per_rollout = freq > 0 ? static_cast<int>(6 / freq) : 1;
    for (int rollout = 0; rollout < 2; ++rollout) {
      INFO("rollout " << rollout);
      collector.collect(policy, gen, buffer, 0.95);
      const torch::Tensor actions = buffer.actions().reshape({6, 2});
      const auto draws = actions_per_draw(policy, buffer.observations(), seed, 2 * per_rollout);
      for (int t = 0; t < 6; ++t) {
        INFO("step " << t);
        const int expected = rollout * per_rollout + (freq > 0 ? static_cast<int>(t / freq) : 0);
        for (int j = 0; j < 2 * per_rollout; ++j) {
          const torch::Tensor a = draws[static_cast<std::size_t>(j)].reshape({6, 2})[t];
          INFO("draw " << j << " (expected " << expected << "): " << a << " vs " << actions[t]);
          if (j == expected) {
            CHECK(torch::allclose(actions[t], a, 1e-6, 1e-6));
          } else {
            CHECK_FALSE(torch::allclose(actions[t], a, 1e-3, 1e-3));
          }
        }
      }
    }
  }
}

TEST_CASE("attacked observations: the first envs act on, and the buffer keeps, what the attacker shows", "[rollout][adversarial]") {
  auto venv = counting_envs(false);
  ActorCritic policy = controlled_policy(venv->spec(), false);
  RolloutCollector collector(*venv, 0.9);
  RolloutBuffer buffer = make_buffer(*venv, policy, 3);
  auto gen = at::detail::createCPUGenerator(3);
  ObservationAttack attack;
  int64_t calls = 0;
  attack.perturb = [&calls](const torch::Tensor& features) {
    ++calls;
    REQUIRE(features.size(0) == 1);  // env 0's row alone
    return features + torch::tensor({0.0f, 50.0f});
  };
  attack.envs = 1;
  collector.collect(policy, gen, buffer, /*gae_lambda=*/1.0, attack);
  CHECK(calls == 3);
  // Rows are step-major: [t * num_envs + env]. Env 0 saw t + 50, env 1 the env's own t.
  const torch::Tensor obs = buffer.observations().reshape({3, 2, 2});
  const torch::Tensor values = buffer.values().reshape({3, 2});
  for (int t = 0; t < 3; ++t) {
    INFO("step " << t);
    CHECK(obs[t][0][1].item<float>() == Approx(t + 50.0));
    CHECK(obs[t][1][1].item<float>() == Approx(t));
    // The value stored is the critic's on what the policy saw.
    CHECK(values[t][0].item<double>() == Approx(value_of(t + 50)).epsilon(1e-5));
    CHECK(values[t][1].item<double>() == Approx(value_of(t)).epsilon(1e-5));
  }
}
