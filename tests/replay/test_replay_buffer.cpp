// Replay storage: sum-tree sampling, importance weights, n-step returns at episode ends, the
// circular layout, compact frame stacks, save/load and the refusal of damaged files.
#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <tuple>
#include <cstring>
#include <unistd.h>

#include "rlforge/envs/vector_env.h"
#include "rlforge/replay/prioritized_replay_buffer.h"
#include "rlforge/replay/replay_buffer.h"
#include "replay_checksum_repair.h"

using namespace rlforge;

namespace {

ReplayBufferConfig scalar_config(int64_t capacity, int64_t n_step = 1, double gamma = 0.99, int64_t num_envs = 1) {
  ReplayBufferConfig c;
  c.capacity = capacity;
  c.num_envs = num_envs;
  c.observation_shape = {1};
  c.n_step = n_step;
  c.gamma = gamma;
  return c;
}

// One env with scalar observations: steps write the action, reward and flags given.
struct ScalarFeeder {
  ReplayBuffer& buffer;
  void reset(float obs) { buffer.observe_reset(&obs); }
  void step(int64_t action, float reward, float next_obs, bool terminated = false, bool truncated = false,
            float final_obs = 0.0f) {
    const uint8_t term = terminated, trunc = truncated;
    buffer.add(&action, &reward, &term, &trunc, &next_obs, &final_obs);
  }
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("rlforge_replay_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

float value_at(const torch::Tensor& t, int64_t i) { return t.reshape({-1})[i].item<float>(); }

torch::Tensor stack_tensor(const std::vector<uint8_t>& bytes) {
  return torch::from_blob(const_cast<uint8_t*>(bytes.data()), {3, 2, 2}, torch::kUInt8).clone();
}

// Pearson's chi-square statistic of observed counts against expected probabilities.
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& probs, int64_t draws) {
  double chi2 = 0.0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (probs[i] == 0.0) continue;
    const double expected = probs[i] * static_cast<double>(draws);
    chi2 += (static_cast<double>(counts[i]) - expected) * (static_cast<double>(counts[i]) - expected) / expected;
  }
  return chi2;
}

}  // namespace

// Tolerance: Pearson's chi-square over 9 non-zero leaves (8 degrees of freedom) must stay below
// 26.12, its 0.999 quantile. With the fixed seeds the test is deterministic; a correct tree gives
// about 8 +- 4, and any wrong mapping (an off-by-one leaf, a lost subtree) gives thousands at
// these draw counts. Zero-priority leaves must never be drawn.
TEST_CASE("sum tree draws in proportion to priority", "[replay][per]") {
  const std::vector<double> priorities = {1, 2, 3, 0, 5, 6, 7, 8, 9, 10};
  SumTree tree(static_cast<int64_t>(priorities.size()));
  for (std::size_t i = 0; i < priorities.size(); ++i) tree.set(static_cast<int64_t>(i), priorities[i]);
  REQUIRE(tree.total() == Approx(51.0));
  std::vector<double> probs;
  for (double p : priorities) probs.push_back(p / 51.0);

  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(0.0, 51.0);
  const int64_t draws = 200000;
  std::vector<int64_t> counts(priorities.size(), 0);
  for (int64_t i = 0; i < draws; ++i) ++counts[static_cast<std::size_t>(tree.find(uniform(rng)))];
  CHECK(counts[3] == 0);
  const double chi2 = chi_square(counts, probs, draws);
  INFO("chi-square " << chi2);
  CHECK(chi2 < 26.12);
  // Edges: the total itself (as rounding may give) still lands on a positive leaf.
  CHECK(tree.find(51.0) == 9);
  CHECK(tree.find(0.0) == 0);
  CHECK(tree.find(5.999) == 2);
  CHECK(tree.find(6.0) == 4);
}

TEST_CASE("prioritized sampling follows priorities", "[replay][per]") {
  PrioritizedReplayConfig per;
  per.alpha = 1.0;
  per.epsilon = 1e-9;
  PrioritizedReplayBuffer buffer(scalar_config(16), per);
  ScalarFeeder feed{buffer};
  feed.reset(0);
  for (int t = 0; t < 8; ++t) feed.step(t, 0.0f, static_cast<float>(t + 1));
  REQUIRE(buffer.size() == 8);
  // Transition t gets priority t + 1 (index t: one env, no wrap yet).
  std::vector<int64_t> idx;
  std::vector<double> td;
  for (int t = 0; t < 8; ++t) {
    idx.push_back(t);
    td.push_back(t + 1.0);
  }
  buffer.update_priorities(idx, td);
  torch::Generator gen = at::detail::createCPUGenerator(11);
  std::vector<int64_t> counts(8, 0);
  const int64_t batches = 2000, batch = 50;
  for (int64_t b = 0; b < batches; ++b) {
    const torch::Tensor got = buffer.sample(batch, gen).indices;
    for (int64_t i = 0; i < batch; ++i) ++counts[static_cast<std::size_t>(got[i].item<int64_t>())];
  }
  std::vector<double> probs;
  for (int t = 0; t < 8; ++t) probs.push_back((t + 1.0) / 36.0);
  // Stratified draws vary less than independent ones: the chi-square bound for 7 degrees of
  // freedom at 0.999 (24.32) is conservative.
  const double chi2 = chi_square(counts, probs, batches * batch);
  INFO("chi-square " << chi2);
  CHECK(chi2 < 24.32);
}

TEST_CASE("importance weights match hand values", "[replay][per]") {
  PrioritizedReplayConfig per;
  per.alpha = 0.5;
  per.beta = 0.4;
  per.epsilon = 0.25;
  PrioritizedReplayBuffer buffer(scalar_config(8), per);
  ScalarFeeder feed{buffer};
  feed.reset(0);
  for (int t = 0; t < 4; ++t) feed.step(t, 0.0f, static_cast<float>(t + 1));
  REQUIRE(buffer.size() == 4);
  CHECK(buffer.priority(0) == 1.0);  // new transitions: the max priority, 1 at first
  // |td| + eps = 1, 2, 4, 9 -> p = sqrt: 1, 1.41421356, 2, 3.
  buffer.update_priorities(torch::tensor({0, 1, 2, 3}, torch::kInt64), torch::tensor({-0.75, 1.75, 3.75, -8.75}));
  CHECK(buffer.priority(1) == Approx(1.41421356));
  CHECK(buffer.max_priority() == Approx(3.0));
  // N = 4, total = 7.41421356: w_i = (4 p_i / total)^-0.4 / (4 * 1 / total)^-0.4 = p_i^-0.4.
  const std::map<int64_t, double> expected = {{0, 1.0}, {1, 0.8705505633}, {2, 0.7578582833}, {3, 0.6443940149}};
  torch::Generator gen = at::detail::createCPUGenerator(3);
  const ReplaySample s = buffer.sample(64, gen);
  std::map<int64_t, int> seen;
  for (int64_t i = 0; i < 64; ++i) {
    const int64_t index = s.indices[i].item<int64_t>();
    ++seen[index];
    CHECK(s.weights[i].item<float>() == Approx(expected.at(index)).epsilon(1e-6));
  }
  CHECK(seen.size() == 4);
  // beta = 1: (p_min / p_i).
  buffer.set_beta(1.0);
  const ReplaySample s1 = buffer.sample(16, gen);
  for (int64_t i = 0; i < 16; ++i) {
    const double p = buffer.priority(s1.indices[i].item<int64_t>());
    CHECK(s1.weights[i].item<float>() == Approx(1.0 / p).epsilon(1e-6));
  }
  CHECK_THROWS_AS(buffer.update_priorities(std::vector<int64_t>{1000}, std::vector<double>{1.0}), std::out_of_range);
  // A new transition gets the largest priority so far.
  feed.step(4, 0.0f, 5.0f);
  CHECK(buffer.priority(4) == Approx(3.0));
  // Linear annealing of beta.
  CHECK(linear_schedule(0.4, 1.0, 0, 100) == Approx(0.4));
  CHECK(linear_schedule(0.4, 1.0, 50, 100) == Approx(0.7));
  CHECK(linear_schedule(0.4, 1.0, 250, 100) == Approx(1.0));
}

namespace {
// Episode A: obs 0..3, rewards 1..4, terminated (final obs 4). Episode B: obs 10, 11, rewards 10,
// 20, truncated (final obs 12). Episode C: obs 20..23, rewards 100, 200, 300, still running.
void feed_three_episodes(ReplayBuffer& buffer) {
  ScalarFeeder feed{buffer};
  feed.reset(0);
  feed.step(0, 1, 1);
  feed.step(1, 2, 2);
  feed.step(2, 3, 3);
  feed.step(3, 4, 10, /*terminated=*/true, false, /*final_obs=*/4);
  feed.step(4, 10, 11);
  feed.step(5, 20, 20, false, /*truncated=*/true, /*final_obs=*/12);
  feed.step(6, 100, 21);
  feed.step(7, 200, 22);
  feed.step(8, 300, 23);
}

struct Expected {
  float obs, reward, next_obs, done, discount;
};

void check_transitions(const ReplayBuffer& buffer, const std::vector<Expected>& expected) {
  const std::vector<int64_t> valid = buffer.valid_indices();
  REQUIRE(valid.size() == expected.size());
  const ReplaySample s = buffer.gather(valid);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto k = static_cast<int64_t>(i);
    INFO("transition from obs " << expected[i].obs);
    CHECK(value_at(s.observations, k) == expected[i].obs);
    CHECK(value_at(s.rewards, k) == Approx(expected[i].reward));
    CHECK(value_at(s.next_observations, k) == expected[i].next_obs);
    CHECK(value_at(s.dones, k) == expected[i].done);
    CHECK(value_at(s.discounts, k) == Approx(expected[i].discount));
  }
}
}  // namespace

TEST_CASE("n-step returns at episode ends", "[replay][nstep]") {
  SECTION("n = 3") {
    ReplayBuffer buffer(scalar_config(100, 3, 0.5));
    feed_three_episodes(buffer);
    // A0: 1 + .5*2 + .25*3, bootstraps from obs 3 with .5^3. A1..A3 reach the termination: no
    // bootstrap. B is truncated after 2 steps (n > episode): partial windows bootstrap from the
    // final obs 12 with .5^m. C0 has its full window; C1, C2 wait for theirs.
    check_transitions(buffer, {{0, 2.75f, 3, 0, 0.125f},
                               {1, 4.5f, 4, 1, 0},
                               {2, 5.0f, 4, 1, 0},
                               {3, 4.0f, 4, 1, 0},
                               {10, 20.0f, 12, 0, 0.25f},
                               {11, 20.0f, 12, 0, 0.5f},
                               {20, 275.0f, 23, 0, 0.125f}});
  }
  SECTION("n larger than every episode") {
    ReplayBuffer buffer(scalar_config(100, 10, 0.5));
    feed_three_episodes(buffer);
    check_transitions(buffer, {{0, 3.25f, 4, 1, 0},
                               {1, 4.5f, 4, 1, 0},
                               {2, 5.0f, 4, 1, 0},
                               {3, 4.0f, 4, 1, 0},
                               {10, 20.0f, 12, 0, 0.25f},
                               {11, 20.0f, 12, 0, 0.5f}});
  }
  SECTION("n = 1") {
    ReplayBuffer buffer(scalar_config(100, 1, 0.5));
    feed_three_episodes(buffer);
    check_transitions(buffer, {{0, 1, 1, 0, 0.5f},
                               {1, 2, 2, 0, 0.5f},
                               {2, 3, 3, 0, 0.5f},
                               {3, 4, 4, 1, 0},
                               {10, 10, 11, 0, 0.5f},
                               {11, 20, 12, 0, 0.5f},
                               {20, 100, 21, 0, 0.5f},
                               {21, 200, 22, 0, 0.5f},
                               {22, 300, 23, 0, 0.5f}});
  }
}

TEST_CASE("wrap-around keeps the newest transitions", "[replay]") {
  ReplayBuffer buffer(scalar_config(5));
  ScalarFeeder feed{buffer};
  feed.reset(0);
  for (int t = 0; t < 12; ++t) feed.step(t, static_cast<float>(10 * t), static_cast<float>(t + 1));
  CHECK(buffer.size() == 5);
  CHECK(buffer.steps_added() == 12);
  const ReplaySample s = buffer.gather(buffer.valid_indices());
  std::vector<float> obs;
  for (int64_t i = 0; i < 5; ++i) {
    const float o = value_at(s.observations, i);
    obs.push_back(o);
    CHECK(s.actions[i].item<int64_t>() == static_cast<int64_t>(o));
    CHECK(value_at(s.rewards, i) == 10 * o);
    CHECK(value_at(s.next_observations, i) == o + 1);
  }
  std::sort(obs.begin(), obs.end());
  CHECK(obs == std::vector<float>{7, 8, 9, 10, 11});
  // Every draw lands on one of those.
  torch::Generator gen = at::detail::createCPUGenerator(1);
  const ReplaySample d = buffer.sample(100, gen);
  CHECK(d.observations.min().item<float>() >= 7);
  CHECK(d.observations.max().item<float>() <= 11);
}

TEST_CASE("per-env streams of a vector env", "[replay]") {
  // Two envs, n = 2: env 0 runs on, env 1 terminates at its second step.
  ReplayBuffer buffer(scalar_config(20, 2, 0.5, 2));
  const float reset_obs[2] = {0, 100};
  buffer.observe_reset(reset_obs);
  const int64_t actions[2] = {0, 1};
  const float rewards1[2] = {1, 10}, obs1[2] = {1, 101}, final1[2] = {0, 0};
  const uint8_t none[2] = {0, 0}, term2[2] = {0, 1};
  buffer.add(actions, rewards1, none, none, obs1, final1);
  const float rewards2[2] = {2, 20}, obs2[2] = {2, 200}, final2[2] = {0, 102};
  buffer.add(actions, rewards2, term2, none, obs2, final2);
  check_transitions(buffer, {{0, 2.0f, 2, 0, 0.25f}, {100, 20.0f, 102, 1, 0}, {101, 20.0f, 102, 1, 0}});
}

// Against a plain reference built from the vector env's own outputs, for CartPole with a time
// limit that truncates some episodes, with and without frame stacking.
TEST_CASE("vector env transitions match a reference", "[replay][nstep]") {
  const bool stacked = GENERATE(false, true);
  VectorEnvConfig vc{"CartPole-v1", {{"max_episode_steps", int64_t{12}}}, {}, 3, 1};
  if (stacked) vc.wrappers = {{"FrameStack", {{"num_stack", int64_t{3}}}}};
  VectorEnv env(vc);
  ReplayBufferConfig c = replay_config_for(env.spec(), 300, 3);
  c.n_step = 3;
  c.gamma = 0.9;
  if (stacked) c.frame_stack = 3;
  ReplayBuffer buffer(c);
  const std::size_t obs_floats = env.spec().observation_space.size();
  struct Step {
    std::vector<float> obs, next;
    int64_t action;
    float reward;
    bool term, trunc;
  };
  std::vector<std::vector<Step>> log(3);
  env.reset(5);
  buffer.observe_reset(env);
  std::mt19937 rng(9);
  int ends = 0, truncations = 0;
  for (int t = 0; t < 60; ++t) {
    std::vector<int64_t> actions = {int64_t(rng() % 2), int64_t(rng() % 2), int64_t(rng() % 2)};
    std::vector<std::vector<float>> before(3);
    for (int e = 0; e < 3; ++e) {
      const float* o = env.observations_f32() + e * obs_floats;
      before[e].assign(o, o + obs_floats);
    }
    env.step(actions);
    if (stacked) {
      buffer.add(env, torch::from_blob(actions.data(), {3}, torch::kInt64));
    } else {
      buffer.add(env, actions.data());
    }
    for (int e = 0; e < 3; ++e) {
      const bool term = env.terminated()[e], trunc = env.truncated()[e];
      const float* src = (term || trunc) ? static_cast<const float*>(env.final_observations()) : env.observations_f32();
      log[e].push_back({before[e], std::vector<float>(src + e * obs_floats, src + (e + 1) * obs_floats),
                        actions[e], env.rewards()[e], term, trunc});
      ends += term || trunc;
      truncations += trunc;
    }
  }
  REQUIRE(truncations > 0);
  REQUIRE(ends > truncations);
  // Reference: each step that has its window (n steps, or the episode's end) is a transition.
  std::map<std::vector<float>, Expected> reference;
  std::map<std::vector<float>, std::vector<float>> reference_next;
  for (int e = 0; e < 3; ++e) {
    for (std::size_t i = 0; i < log[e].size(); ++i) {
      double ret = 0.0, disc = 1.0;
      bool term = false, complete = false;
      std::size_t j = i;
      for (int m = 0; m < 3 && j < log[e].size(); ++m, ++j) {
        ret += disc * log[e][j].reward;
        disc *= 0.9;
        if (log[e][j].term || log[e][j].trunc) {
          term = log[e][j].term;
          complete = true;
          ++j;
          break;
        }
        if (m == 2) complete = true;
      }
      if (!complete) continue;
      reference[log[e][i].obs] = {0, static_cast<float>(ret), 0, term ? 1.0f : 0.0f, term ? 0.0f : static_cast<float>(disc)};
      reference_next[log[e][i].obs] = log[e][j - 1].next;
    }
  }
  REQUIRE(buffer.size() == static_cast<int64_t>(reference.size()));
  const ReplaySample s = buffer.gather(buffer.valid_indices());
  const torch::Tensor obs = s.observations.reshape({buffer.size(), -1});
  const torch::Tensor next = s.next_observations.reshape({buffer.size(), -1});
  for (int64_t i = 0; i < buffer.size(); ++i) {
    const float* o = obs[i].data_ptr<float>();
    const std::vector<float> key(o, o + obs_floats);
    REQUIRE(reference.count(key) == 1);
    const Expected& x = reference.at(key);
    CHECK(value_at(s.rewards, i) == Approx(x.reward).epsilon(1e-5));
    CHECK(value_at(s.dones, i) == x.done);
    CHECK(value_at(s.discounts, i) == Approx(x.discount).epsilon(1e-6));
    const float* n = next[i].data_ptr<float>();
    CHECK(std::vector<float>(n, n + obs_floats) == reference_next.at(key));
  }
}

TEST_CASE("uint8 frame stacks are stored once", "[replay][frames]") {
  ReplayBufferConfig big;
  big.capacity = 1000;
  big.observation_shape = {4, 84, 84};
  big.observation_dtype = torch::kUInt8;
  big.frame_stack = 4;
  // Slots: 1000 + n_step 1 + 3 frames of history; each: one 84x84 uint8 frame, an int64 action,
  // a float reward, a flags byte and a history byte.
  const int64_t expected = 1004 * (84 * 84 + 8 + 4 + 1 + 1);
  CHECK(ReplayBuffer::memory_bytes(big) == expected);
  CHECK(ReplayBuffer(big).allocated_bytes() == expected);
  ReplayBufferConfig floats = big;
  floats.observation_dtype = torch::kFloat32;
  floats.frame_stack = 0;
  CHECK(ReplayBuffer::memory_bytes(floats) == 1001 * (4 * 4 * 84 * 84 + 8 + 4 + 1));

  // Small frames to check by hand: frame f holds the value f; a stack [3, 2, 2].
  ReplayBufferConfig c;
  c.capacity = 6;
  c.observation_shape = {3, 2, 2};
  c.observation_dtype = torch::kUInt8;
  c.frame_stack = 3;
  ReplayBuffer buffer(c);
  auto stack = [](int a, int b, int d) {
    std::vector<uint8_t> s;
    for (int v : {a, b, d}) s.insert(s.end(), 4, static_cast<uint8_t>(v));
    return s;
  };
  auto step = [&](int64_t action, const std::vector<uint8_t>& next, bool term, const std::vector<uint8_t>& fin) {
    const float reward = 1;
    const uint8_t t = term, none = 0;
    buffer.add(&action, &reward, &t, &none, next.data(), fin.data());
  };
  buffer.observe_reset(stack(1, 1, 1).data());
  step(0, stack(1, 1, 2), false, {});
  step(1, stack(1, 2, 3), false, {});
  step(2, stack(2, 3, 4), false, {});
  step(3, stack(50, 50, 50), true, stack(3, 4, 5));  // final stack 3 4 5, next episode starts at 50
  for (int f = 51; f < 60; ++f) step(f, stack(std::max(50, f - 2), f - 1, f), false, {});
  // 6 transitions kept (capacity), the oldest stacks rebuilt from frames still in the ring.
  REQUIRE(buffer.size() == 6);
  const ReplaySample s = buffer.gather(buffer.valid_indices());
  CHECK(s.observations.scalar_type() == torch::kUInt8);
  CHECK(s.observations.sizes() == torch::IntArrayRef({6, 3, 2, 2}));
  for (int64_t i = 0; i < 6; ++i) {
    const int newest = s.observations[i][2][0][0].item<uint8_t>();
    INFO("stack ending in frame " << newest);
    const torch::Tensor want = stack_tensor(stack(std::max(50, newest - 2), std::max(50, newest - 1), newest));
    CHECK(torch::equal(s.observations[i], want));
    const torch::Tensor want_next =
        stack_tensor(stack(std::max(50, newest - 1), newest, newest + 1));
    CHECK(torch::equal(s.next_observations[i], want_next));
  }
  // The first episode, read before it was overwritten, in a larger buffer.
  c.capacity = 50;
  ReplayBuffer roomy(c);
  roomy.observe_reset(stack(1, 1, 1).data());
  const float reward = 1;
  const uint8_t none = 0, yes = 1;
  const int64_t action = 0;
  const auto s2 = stack(1, 1, 2), s3 = stack(1, 2, 3), s50 = stack(50, 50, 50), fin = stack(2, 3, 4);
  roomy.add(&action, &reward, &none, &none, s2.data(), nullptr);
  roomy.add(&action, &reward, &none, &none, s3.data(), nullptr);
  roomy.add(&action, &reward, &yes, &none, s50.data(), fin.data());
  const ReplaySample r = roomy.gather(roomy.valid_indices());
  REQUIRE(r.observations.size(0) == 3);
  CHECK(torch::equal(r.observations[0], stack_tensor(stack(1, 1, 1))));
  CHECK(torch::equal(r.next_observations[2], stack_tensor(fin)));

  // A stack that does not continue the previous one is refused, and nothing is written.
  const int64_t before = roomy.size();
  const auto wrong = stack(7, 8, 9);
  CHECK_THROWS_WITH(roomy.add(&action, &reward, &none, &none, wrong.data(), nullptr),
                    Catch::Contains("frame stack") && Catch::Contains("frame_stack = 0"));
  CHECK(roomy.size() == before);
}

namespace {
void flip_byte(const std::string& path, std::streamoff offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  f.seekp(offset);
  f.write(&c, 1);
}
}  // namespace

TEST_CASE("save and load round trip", "[replay][save]") {
  ReplayBufferConfig c = scalar_config(7, 2, 0.9, 2);
  PrioritizedReplayConfig per;
  PrioritizedReplayBuffer buffer(c, per);
  std::vector<float> obs = {0, 100};
  buffer.observe_reset(obs.data());
  for (int t = 0; t < 13; ++t) {
    const int64_t actions[2] = {t, -t};
    const float rewards[2] = {float(t), float(2 * t)};
    const uint8_t term[2] = {uint8_t(t % 5 == 4), 0}, trunc[2] = {0, uint8_t(t % 6 == 5)};
    const float next[2] = {float(t + 1), float(101 + t)}, fin[2] = {-1, -2};
    buffer.add(actions, rewards, term, trunc, next, fin);
  }
  buffer.update_priorities(torch::tensor(buffer.valid_indices()), torch::rand({buffer.size()}));
  buffer.set_beta(0.7);
  const std::string path = temp_path("roundtrip.bin");
  buffer.save(path);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  PrioritizedReplayBuffer loaded(c, per);
  loaded.load(path);
  CHECK(loaded.size() == buffer.size());
  CHECK(loaded.steps_added() == buffer.steps_added());
  CHECK(loaded.max_priority() == buffer.max_priority());
  CHECK(loaded.beta() == 0.7);
  for (int64_t g = 0; g < 2 * buffer.slots_per_env(); ++g) CHECK(loaded.priority(g) == buffer.priority(g));
  torch::Generator a = at::detail::createCPUGenerator(4), b = at::detail::createCPUGenerator(4);
  const ReplaySample x = buffer.sample(32, a), y = loaded.sample(32, b);
  CHECK(torch::equal(x.indices, y.indices));
  CHECK(torch::equal(x.observations, y.observations));
  CHECK(torch::equal(x.next_observations, y.next_observations));
  CHECK(torch::equal(x.actions, y.actions));
  CHECK(torch::equal(x.rewards, y.rewards));
  CHECK(torch::equal(x.discounts, y.discounts));
  CHECK(torch::equal(x.weights, y.weights));
  // Both continue the same way.
  const int64_t actions[2] = {1, 1};
  const float rewards[2] = {1, 1}, next[2] = {50, 60}, fin[2] = {0, 0};
  const uint8_t none[2] = {0, 0};
  buffer.add(actions, rewards, none, none, next, fin);
  loaded.add(actions, rewards, none, none, next, fin);
  CHECK(loaded.valid_indices() == buffer.valid_indices());
  CHECK(torch::equal(buffer.gather(buffer.valid_indices()).rewards, loaded.gather(loaded.valid_indices()).rewards));

  // Same seed, same batch; another seed, another batch.
  torch::Generator g1 = at::detail::createCPUGenerator(9), g2 = at::detail::createCPUGenerator(9),
                   g3 = at::detail::createCPUGenerator(10);
  ReplayBuffer uniform(c);
  uniform.observe_reset(obs.data());
  for (int t = 0; t < 20; ++t) {
    const int64_t acts[2] = {t, t};
    const float r[2] = {0, 0}, n[2] = {float(t + 1), float(t + 101)};
    uniform.add(acts, r, none, none, n, fin);
  }
  const torch::Tensor i1 = uniform.sample(64, g1).indices, i2 = uniform.sample(64, g2).indices,
                      i3 = uniform.sample(64, g3).indices;
  CHECK(torch::equal(i1, i2));
  CHECK_FALSE(torch::equal(i1, i3));
  std::filesystem::remove(path);
}

TEST_CASE("damaged or mismatched files are refused", "[replay][save]") {
  ReplayBufferConfig c = scalar_config(10, 1, 0.9);
  ReplayBuffer buffer(c);
  ScalarFeeder feed{buffer};
  feed.reset(0);
  for (int t = 0; t < 6; ++t) feed.step(t, 1, static_cast<float>(t + 1));
  const std::string path = temp_path("damaged.bin");
  buffer.save(path);
  const auto size = static_cast<std::streamoff>(std::filesystem::file_size(path));

  ReplayBuffer target(c);
  ScalarFeeder other{target};
  other.reset(5);
  other.step(0, 1, 6);
  SECTION("a flipped data byte") {
    flip_byte(path, size - 20);
    CHECK_THROWS_WITH(target.load(path), Catch::Contains(path) && Catch::Contains("corrupt"));
  }
  SECTION("a flipped header byte") {
    flip_byte(path, 30);
    CHECK_THROWS_WITH(target.load(path), Catch::Contains(path) && Catch::Contains("header"));
  }
  SECTION("a truncated file") {
    std::filesystem::resize_file(path, static_cast<uintmax_t>(size - 9));
    CHECK_THROWS_WITH(target.load(path), Catch::Contains(path) && Catch::Contains("truncated"));
  }
  SECTION("not a replay file") {
    std::ofstream(path, std::ios::binary) << "hello, this is not a replay buffer at all";
    CHECK_THROWS_WITH(target.load(path), Catch::Contains(path) && Catch::Contains("not an rlforge replay buffer"));
  }
  SECTION("another config") {
    ReplayBufferConfig wider = c;
    wider.capacity = 20;
    wider.observation_shape = {2};
    ReplayBuffer mismatched(wider);
    CHECK_THROWS_WITH(mismatched.load(path), Catch::Contains(path) && Catch::Contains("capacity: file has 10, expected 20") &&
                                                 Catch::Contains("observation shape: file has [1], expected [2]"));
    ReplayBufferConfig other_gamma = c;
    other_gamma.gamma = 0.9000001;
    ReplayBuffer gamma_mismatch(other_gamma);
    CHECK_THROWS_WITH(gamma_mismatch.load(path), Catch::Contains("gamma: file has 0.9"));
    PrioritizedReplayBuffer prioritized(c, PrioritizedReplayConfig{});
    CHECK_THROWS_WITH(prioritized.load(path), Catch::Contains("kind: file has uniform, expected prioritized"));
  }
  SECTION("a missing file") {
    CHECK_THROWS_WITH(target.load(path + ".missing"), Catch::Contains(path + ".missing"));
  }
  // A refused load leaves the buffer as it was.
  CHECK(target.size() == 1);
  CHECK(value_at(target.gather(target.valid_indices()).observations, 0) == 5.0f);
  std::filesystem::remove(path);
}

namespace {

// The file's bytes with its two checksums put right: what a file that is whole but wrong looks like.
void rewrite_with_checksums(const std::string& path, std::string bytes) {
  testing::put_replay_checksums_right(bytes);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

// Found by fuzzing (tests/fuzz/fuzz_replay_buffer.cpp, checksums put right): a prioritized file
// whose largest priority or beta was out of range was refused only after the buffer had taken
// its positions and counters; a priority that is not a positive number went into the sum tree.
TEST_CASE("a prioritized file whose checksums match but whose priorities cannot be is refused, leaving the buffer empty",
          "[replay][save][per]") {
  const ReplayBufferConfig c = scalar_config(10, 1, 0.9);
  PrioritizedReplayBuffer buffer(c, PrioritizedReplayConfig{});
  ScalarFeeder feed{buffer};
  feed.reset(0);
  for (int t = 0; t < 6; ++t) feed.step(t, 1, static_cast<float>(t + 1));
  const std::string path = temp_path("priorities.bin");
  buffer.save(path);
  std::ifstream in(path, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint32_t header = 0;
  std::memcpy(&header, good.data() + 12, 4);
  PrioritizedReplayBuffer target(c, PrioritizedReplayConfig{});
  REQUIRE_NOTHROW(target.load(path));
  REQUIRE(target.size() == buffer.size());

  // The header ends with the subclass's fields: alpha, epsilon, largest priority, beta.
  for (const auto& [at, value, expected] : {std::tuple{16 + header - 16, -1.0, "largest priority -1"},
                                            std::tuple{16 + header - 8, 1.5, "beta 1.5"}}) {
    std::string bad = good;
    std::memcpy(bad.data() + at, &value, 8);
    rewrite_with_checksums(path, bad);
    CHECK_THROWS_WITH(target.load(path), Catch::Contains(path) && Catch::Contains(expected));
    CHECK(target.size() == buffer.size());  // refused before anything changed
  }
  // Each written slot's priority is the last 8 bytes of its data; the valid ones hold 1.
  const double one = 1.0, nan = std::nan("");
  const auto last = good.rfind(std::string(reinterpret_cast<const char*>(&one), 8));
  REQUIRE(last != std::string::npos);
  std::string bad = good;
  std::memcpy(bad.data() + last, &nan, 8);
  rewrite_with_checksums(path, bad);
  CHECK_THROWS_WITH(target.load(path), Catch::Contains(path) && Catch::Contains("holds priority nan"));
  CHECK(target.size() == 0);
  CHECK(target.steps_added() == 0);
  CHECK(target.valid_indices().empty());
  std::filesystem::remove(path);
}

TEST_CASE("batch tensors are reused only when released", "[replay]") {
  ReplayBuffer buffer(scalar_config(50));
  ScalarFeeder feed{buffer};
  feed.reset(0);
  for (int t = 0; t < 40; ++t) feed.step(t, 0.0f, static_cast<float>(t + 1));
  torch::Generator gen = at::detail::createCPUGenerator(5);
  ReplaySample a = buffer.sample(8, gen);
  const torch::Tensor before = a.observations.clone();
  ReplaySample b = buffer.sample(8, gen);
  CHECK(torch::equal(a.observations, before));  // still held: not overwritten
  CHECK(a.observations.data_ptr() != b.observations.data_ptr());
  // A view keeps the memory in use; released tensors are reused by the next batch.
  const torch::Tensor view = b.rewards.slice(0, 0, 2);
  const void* held = b.rewards.data_ptr();
  const void* released = b.observations.data_ptr();
  b = ReplaySample{};
  const ReplaySample c = buffer.sample(8, gen);
  CHECK(c.rewards.data_ptr() != held);
  CHECK(c.observations.data_ptr() == released);
  CHECK(torch::equal(a.observations, before));
}
