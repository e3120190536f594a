// Wrappers checked against values worked out in the test from an unwrapped twin of the env.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "rlforge/envs/rng.h"
#include "rlforge/envs/classic/pendulum.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/running_mean_std.h"
#include "rlforge/envs/wrappers.h"

#include "env_test_helpers.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

// Mean and variance of the values seen so far pooled with RunningMeanStd's prior (count c0, mean
// 0, variance 1), computed directly in two passes.
struct PooledStats {
  explicit PooledStats(std::size_t size, double prior_count = 1e-4)
      : size(size), prior(prior_count) {}
  void add(const std::vector<double>& x) { rows.push_back(x); }
  double mean(std::size_t i) const {
    double sum = 0.0;
    for (const auto& r : rows) sum += r[i];
    return sum / (static_cast<double>(rows.size()) + prior);
  }
  double var(std::size_t i) const {
    const double m = mean(i);
    double m2 = prior * (1.0 + m * m);
    for (const auto& r : rows) m2 += (r[i] - m) * (r[i] - m);
    return m2 / (static_cast<double>(rows.size()) + prior);
  }
  std::size_t size;
  double prior;
  std::vector<std::vector<double>> rows;
};

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// A tiny env with uint8 observations (or Discrete ones): frame t holds bytes 10 t + i.
class ByteEnv final : public Env {
 public:
  explicit ByteEnv(bool discrete_obs = false) : Env(make_spec(discrete_obs)), discrete_(discrete_obs) {}

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    t_ = 0;
    write(obs);
  }
  StepResult step_impl(const void*, void* obs) override {
    ++t_;
    write(obs);
    return {1.0, false, false};
  }

 private:
  static EnvSpec make_spec(bool discrete_obs) {
    EnvSpec spec;
    spec.id = "Byte-v0";
    spec.observation_space = discrete_obs ? Space::discrete(4)
                                          : Space::box({2, 2}, 0.0f, 255.0f, DType::UInt8);
    spec.action_space = Space::discrete(2);
    return spec;
  }
  void write(void* obs) const {
    if (discrete_) {
      *static_cast<int64_t*>(obs) = t_ % 4;
      return;
    }
    for (int i = 0; i < 4; ++i) static_cast<uint8_t*>(obs)[i] = static_cast<uint8_t>(10 * t_ + i);
  }
  bool discrete_;
  int t_ = 0;
};

// A fixed, varied torque sequence for Pendulum.
float torque(int t) { return static_cast<float>(2.0 * std::sin(0.7 * t + 0.3)); }

}  // namespace

// ---- TimeLimit ----

TEST_CASE("TimeLimit truncates at exactly max_episode_steps", "[wrappers][timelimit]") {
  auto env = std::make_unique<TimeLimit>(make_env("Pendulum-v1"), 5);
  CHECK(env->spec().max_episode_steps == 5);
  std::vector<float> obs(3);
  for (int episode = 0; episode < 2; ++episode) {  // the count restarts on reset
    env->reset(episode, obs.data());
    CHECK(env->elapsed_steps() == 0);
    for (int t = 1; t <= 5; ++t) {
      const StepResult r = env->step(std::vector<float>{0.0f}, obs.data());
      CHECK(env->elapsed_steps() == t);
      CHECK_FALSE(r.terminated);
      CHECK(r.truncated == (t == 5));
    }
    CHECK(env->needs_reset());
    CHECK_THROWS_AS(env->step(std::vector<float>{0.0f}, obs.data()), EnvError);
  }
}

TEST_CASE("TimeLimit does not truncate a step that terminates", "[wrappers][timelimit]") {
  auto env = std::make_unique<TimeLimit>(make_env("CartPole-v1"), 1);
  std::vector<float> obs(4);
  env->set_state({2.39, 1.0, 0.0, 0.0});  // fails in one step, which is also the limit
  const StepResult r = env->step(int64_t{1}, obs.data());
  CHECK(r.terminated);
  CHECK_FALSE(r.truncated);

  auto longer = std::make_unique<TimeLimit>(make_env("CartPole-v1"), 10);
  longer->reset(0, obs.data());
  longer->step(int64_t{0}, obs.data());
  longer->set_state({0.0, 0.0, 0.0, 0.0});  // set_state restarts the count
  CHECK(longer->elapsed_steps() == 0);
}

TEST_CASE("TimeLimit refuses a non-positive limit and a missing env", "[wrappers][timelimit]") {
  CHECK_THROWS_WITH(TimeLimit(make_env("CartPole-v1"), 0), Catch::Contains("max_episode_steps > 0"));
  CHECK_THROWS_AS(TimeLimit(make_env("CartPole-v1"), -3), EnvError);
  CHECK_THROWS_WITH(TimeLimit(nullptr, 5), Catch::Contains("no environment"));
}

// ---- EpisodeStatistics ----

TEST_CASE("EpisodeStatistics sums rewards and counts steps per episode", "[wrappers][stats]") {
  auto env = std::make_unique<EpisodeStatistics>(
      std::make_unique<TimeLimit>(make_env("Pendulum-v1"), 4));
  auto twin = make_env("Pendulum-v1");
  std::vector<float> obs(3), twin_obs(3);
  env->reset(11, obs.data());
  twin->reset(11, twin_obs.data());
  CHECK(env->episodes_finished() == 0);
  CHECK_FALSE(env->finished_episode().has_value());

  double expected = 0.0;
  for (int t = 0; t < 4; ++t) {
    const StepResult r = env->step(std::vector<float>{torque(t)}, obs.data());
    const StepResult tr = twin->step(std::vector<float>{torque(t)}, twin_obs.data());
    CHECK(r.reward == tr.reward);
    expected += tr.reward;
    CHECK(env->episode_return() == Approx(expected).epsilon(1e-12));
    CHECK(env->episode_length() == t + 1);
    CHECK(env->finished_episode().has_value() == (t == 3));
  }
  REQUIRE(env->finished_episode().has_value());
  CHECK(env->finished_episode()->episode_return == Approx(expected).epsilon(1e-12));
  CHECK(env->finished_episode()->length == 4);
  CHECK(env->episodes_finished() == 1);

  env->reset(std::nullopt, obs.data());
  CHECK_FALSE(env->finished_episode().has_value());
  CHECK(env->episode_return() == 0.0);
  CHECK(env->episode_length() == 0);
  for (int t = 0; t < 4; ++t) env->step(std::vector<float>{0.0f}, obs.data());
  CHECK(env->episodes_finished() == 2);
  CHECK(env->finished_episode()->length == 4);
}

TEST_CASE("EpisodeStatistics records terminated episodes too", "[wrappers][stats]") {
  auto env = std::make_unique<EpisodeStatistics>(make_env("CartPole-v1"));
  std::vector<float> obs(4);
  env->reset(0, obs.data());
  int steps = 0;
  StepResult r;
  do {
    r = env->step(int64_t{0}, obs.data());
    ++steps;
  } while (!r.terminated && steps < 1000);
  REQUIRE(r.terminated);
  REQUIRE(env->finished_episode().has_value());
  CHECK(env->finished_episode()->length == steps);
  CHECK(env->finished_episode()->episode_return == static_cast<double>(steps));
}

// ---- ClipAction ----

TEST_CASE("ClipAction makes the action space unbounded and clips to the inner bounds",
          "[wrappers][clip]") {
  auto env = std::make_unique<ClipAction>(make_env("Pendulum-v1"));
  CHECK(env->spec().action_space == Space::box({1}, -kInf, kInf));
  CHECK(env->spec().action_space.describe() == "Box(-inf, inf, (1,), float32)");
  CHECK(env->inner().spec().action_space == Space::box({1}, -2.0f, 2.0f));
  CHECK(env->spec().observation_space == env->inner().spec().observation_space);

  auto twin = make_env("Pendulum-v1");
  std::vector<float> obs(3), twin_obs(3);
  const std::vector<std::pair<float, float>> cases = {
      {7.5f, 2.0f}, {-1e30f, -2.0f}, {0.5f, 0.5f}, {-2.0f, -2.0f}};
  for (const auto& [given, clipped] : cases) {
    env->set_state({0.3, -0.2});
    twin->set_state({0.3, -0.2});
    const StepResult r = env->step(std::vector<float>{given}, obs.data());
    const StepResult tr = twin->step(std::vector<float>{clipped}, twin_obs.data());
    CHECK(obs == twin_obs);
    CHECK(r.reward == tr.reward);
    CHECK(dynamic_cast<Pendulum&>(env->unwrapped()).last_torque() == clipped);
  }
  // Non-finite actions are still refused.
  CHECK_THROWS_AS(env->step(std::vector<float>{std::nanf("")}, obs.data()), EnvError);
}

TEST_CASE("ClipAction clips MountainCarContinuous so the penalty is of the clipped action",
          "[wrappers][clip]") {
  // Unlike the bare env, whose penalty uses the unclipped action.
  auto env = std::make_unique<ClipAction>(make_env("MountainCarContinuous-v0"));
  std::vector<float> obs(2);
  env->set_state({-0.5, 0.0});
  const StepResult r = env->step(std::vector<float>{3.0f}, obs.data());
  CHECK(r.reward == Approx(-0.1));
}

// ---- RescaleAction ----

TEST_CASE("RescaleAction maps min_action..max_action onto the inner bounds", "[wrappers][rescale]") {
  auto env = std::make_unique<RescaleAction>(make_env("Pendulum-v1"), -1.0f, 1.0f);
  CHECK(env->spec().action_space == Space::box({1}, -1.0f, 1.0f));
  auto twin = make_env("Pendulum-v1");
  std::vector<float> obs(3), twin_obs(3);
  // inner = low + (high - low) * (a - min) / (max - min) = -2 + 4 (a + 1) / 2 = 2 a.
  const std::vector<std::pair<float, float>> cases = {
      {-1.0f, -2.0f}, {1.0f, 2.0f}, {0.0f, 0.0f}, {0.25f, 0.5f}, {-0.75f, -1.5f}};
  for (const auto& [outer, inner] : cases) {
    env->set_state({1.2, 0.4});
    twin->set_state({1.2, 0.4});
    const StepResult r = env->step(std::vector<float>{outer}, obs.data());
    const StepResult tr = twin->step(std::vector<float>{inner}, twin_obs.data());
    CHECK(obs == twin_obs);
    CHECK(r.reward == tr.reward);
    CHECK(dynamic_cast<Pendulum&>(env->unwrapped()).last_torque() == inner);
  }
}

TEST_CASE("RescaleAction with an asymmetric range", "[wrappers][rescale]") {
  // [0, 1] onto MountainCarContinuous's [-1, 1]: inner = 2 a - 1.
  auto env = std::make_unique<RescaleAction>(make_env("MountainCarContinuous-v0"), 0.0f, 1.0f);
  CHECK(env->spec().action_space == Space::box({1}, 0.0f, 1.0f));
  auto twin = make_env("MountainCarContinuous-v0");
  std::vector<float> obs(2), twin_obs(2);
  const std::vector<std::pair<float, float>> cases = {{0.0f, -1.0f}, {1.0f, 1.0f}, {0.75f, 0.5f}};
  for (const auto& [outer, inner] : cases) {
    env->set_state({-0.5, 0.01});
    twin->set_state({-0.5, 0.01});
    const StepResult r = env->step(std::vector<float>{outer}, obs.data());
    const StepResult tr = twin->step(std::vector<float>{inner}, twin_obs.data());
    CHECK(obs == twin_obs);
    CHECK(r.reward == tr.reward);  // the penalty is of the rescaled action
  }
}

TEST_CASE("RescaleAction refusals", "[wrappers][rescale]") {
  CHECK_THROWS_WITH(RescaleAction(make_env("Pendulum-v1"), 1.0f, 1.0f),
                    Catch::Contains("min_action < max_action"));
  CHECK_THROWS_AS(RescaleAction(make_env("Pendulum-v1"), 2.0f, -2.0f), EnvError);
  CHECK_THROWS_WITH(RescaleAction(std::make_unique<ClipAction>(make_env("Pendulum-v1")), -1, 1),
                    Catch::Contains("bounded action space"));
  CHECK_THROWS_WITH(RescaleAction(make_env("Acrobot-v1"), -1, 1),
                    Catch::Contains("RescaleAction") && Catch::Contains("Acrobot-v1") &&
                        Catch::Contains("Discrete(3)"));
}

// ---- NormalizeObservation ----

TEST_CASE("NormalizeObservation outputs (obs - mean) / sqrt(var + eps) after updating",
          "[wrappers][normalize]") {
  const double eps = 1e-8;
  auto env = std::make_unique<NormalizeObservation>(make_env("CartPole-v1"), eps);
  CHECK(env->spec().observation_space == Space::box({4}, -kInf, kInf));
  auto twin = make_env("CartPole-v1");
  std::vector<float> obs(4), raw(4);
  PooledStats stats(4);

  auto check_against_twin = [&] {
    stats.add(to_double(raw));
    for (std::size_t i = 0; i < 4; ++i) {
      const double m = stats.mean(i), v = stats.var(i);
      const double expected = (raw[i] - m) / std::sqrt(v + eps);
      INFO("element " << i << " after " << stats.rows.size() << " observations");
      REQUIRE(obs[i] == Approx(expected).epsilon(1e-4).margin(1e-5));
      REQUIRE(env->running_stats().mean()[i] == Approx(m).epsilon(1e-9).margin(1e-12));
      REQUIRE(env->running_stats().var()[i] == Approx(v).epsilon(1e-6).margin(1e-12));
    }
  };

  env->reset(5, obs.data());
  twin->reset(5, raw.data());
  check_against_twin();
  for (int t = 0; t < 60; ++t) {
    const int64_t a = (t / 3) % 2;
    const StepResult r = env->step(a, obs.data());
    const StepResult tr = twin->step(a, raw.data());
    CHECK(r.reward == tr.reward);
    CHECK(r.terminated == tr.terminated);
    check_against_twin();
    if (r.terminated) {
      env->reset(std::nullopt, obs.data());
      twin->reset(std::nullopt, raw.data());
      check_against_twin();
    }
  }
  CHECK(env->running_stats().count() == Approx(stats.rows.size() + 1e-4));
}

TEST_CASE("NormalizeObservation clip bounds the output and the space", "[wrappers][normalize]") {
  auto env = std::make_unique<NormalizeObservation>(make_env("Pendulum-v1"), 1e-8, 0.5);
  CHECK(env->spec().observation_space == Space::box({3}, -0.5f, 0.5f));
  std::vector<float> obs(3);
  env->reset(0, obs.data());
  bool hit_bound = false;
  for (int t = 0; t < 50; ++t) {
    env->step(std::vector<float>{torque(t)}, obs.data());
    REQUIRE(env->spec().observation_space.contains(obs.data()));
    for (float v : obs) hit_bound = hit_bound || std::abs(v) == 0.5f;
  }
  CHECK(hit_bound);
}

TEST_CASE("NormalizeObservation statistics: save/load round trip and freezing",
          "[wrappers][normalize]") {
  auto trained = std::make_unique<NormalizeObservation>(make_env("CartPole-v1"));
  std::vector<float> obs(4);
  trained->reset(1, obs.data());
  for (int t = 0; t < 8; ++t) trained->step(int64_t{t % 2}, obs.data());

  const std::vector<double> saved = trained->statistics();
  REQUIRE(saved.size() == 1 + 2 * 4);
  CHECK(saved[0] == Approx(9 + 1e-4));  // reset + 8 steps
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(saved[1 + i] == trained->running_stats().mean()[i]);
    CHECK(saved[5 + i] == trained->running_stats().var()[i]);
  }

  SECTION("a fresh wrapper given the statistics normalises identically") {
    auto restored = std::make_unique<NormalizeObservation>(make_env("CartPole-v1"));
    restored->load_statistics(saved);
    CHECK(restored->statistics() == saved);
    trained->set_updating(false);
    restored->set_updating(false);
    CHECK_FALSE(restored->updating());
    std::vector<float> a(4), b(4);
    trained->reset(42, a.data());
    restored->reset(42, b.data());
    CHECK(a == b);
    for (int t = 0; t < 5; ++t) {
      trained->step(int64_t{1}, a.data());
      restored->step(int64_t{1}, b.data());
      CHECK(a == b);
    }
  }
  SECTION("set_updating(false) freezes the statistics and uses them as they are") {
    trained->set_updating(false);
    auto twin = make_env("CartPole-v1");
    std::vector<float> raw(4);
    trained->reset(3, obs.data());
    twin->reset(3, raw.data());
    for (int t = 0; t < 5; ++t) {
      trained->step(int64_t{0}, obs.data());
      twin->step(int64_t{0}, raw.data());
      for (std::size_t i = 0; i < 4; ++i) {
        const double expected = (raw[i] - saved[1 + i]) / std::sqrt(saved[5 + i] + 1e-8);
        CHECK(obs[i] == static_cast<float>(expected));
      }
    }
    CHECK(trained->statistics() == saved);
    trained->set_updating(true);
    trained->step(int64_t{0}, obs.data());
    CHECK(trained->statistics() != saved);
  }
  SECTION("statistics of the wrong size are refused") {
    auto other = std::make_unique<NormalizeObservation>(make_env("Pendulum-v1"));
    CHECK_THROWS(other->load_statistics(saved));
    CHECK_THROWS(other->load_statistics({}));
  }
}

TEST_CASE("NormalizeObservation needs a float32 Box observation", "[wrappers][normalize]") {
  CHECK_THROWS_WITH(NormalizeObservation(std::make_unique<ByteEnv>()),
                    Catch::Contains("NormalizeObservation needs a float32 Box observation space") &&
                        Catch::Contains("Byte-v0") &&
                        Catch::Contains("Box(0.0, 255.0, (2, 2), uint8)"));
  CHECK_THROWS_AS(NormalizeObservation(std::make_unique<ByteEnv>(/*discrete_obs=*/true)), EnvError);
}

// ---- NormalizeReward ----

TEST_CASE("NormalizeReward follows Gymnasium's discounted-return rule", "[wrappers][normalize]") {
  const double gamma = 0.9, eps = 1e-8;
  // Inner TimeLimit of 6 steps: truncation does not restart the discounted return.
  auto env = std::make_unique<NormalizeReward>(
      std::make_unique<TimeLimit>(make_env("Pendulum-v1"), 6), gamma, eps);
  auto twin = make_env("Pendulum-v1");
  std::vector<float> obs(3), raw(3);
  PooledStats stats(1);
  double g = 0.0;
  env->reset(9, obs.data());
  twin->reset(9, raw.data());
  for (int t = 0; t < 15; ++t) {
    if (t == 6 || t == 12) {
      REQUIRE(env->needs_reset());
      env->reset(std::nullopt, obs.data());
      twin->reset(std::nullopt, raw.data());
    }
    const StepResult r = env->step(std::vector<float>{torque(t)}, obs.data());
    const StepResult tr = twin->step(std::vector<float>{torque(t)}, raw.data());
    CHECK(obs == raw);  // observations are untouched
    CHECK(r.truncated == (t == 5 || t == 11));
    g = g * gamma + tr.reward;  // Pendulum never terminates
    stats.add({g});
    const double expected = tr.reward / std::sqrt(stats.var(0) + eps);
    INFO("step " << t);
    CHECK(r.reward == Approx(expected).epsilon(1e-9));
    CHECK(env->statistics()[3] == Approx(g).epsilon(1e-12));
  }
  const std::vector<double> s = env->statistics();
  REQUIRE(s.size() == 4);
  CHECK(s[0] == Approx(15 + 1e-4));
  CHECK(s[1] == Approx(stats.mean(0)).epsilon(1e-9));
  CHECK(s[2] == Approx(stats.var(0)).epsilon(1e-9));
}

TEST_CASE("NormalizeReward restarts the discounted return after a termination",
          "[wrappers][normalize]") {
  auto env = std::make_unique<NormalizeReward>(make_env("CartPole-v1"), 0.5);
  std::vector<float> obs(4);
  env->reset(0, obs.data());
  double g = 0.0;
  StepResult r;
  int steps = 0;
  do {
    r = env->step(int64_t{1}, obs.data());
    g = g * 0.5 * (r.terminated ? 0.0 : 1.0) + 1.0;
    ++steps;
    CHECK(env->statistics()[3] == Approx(g));
  } while (!r.terminated && steps < 1000);
  REQUIRE(r.terminated);
  CHECK(env->statistics()[3] == 1.0);  // just the terminal reward
}

TEST_CASE("NormalizeReward statistics: round trip, freezing and refusals", "[wrappers][normalize]") {
  auto env = std::make_unique<NormalizeReward>(make_env("Pendulum-v1"));
  std::vector<float> obs(3);
  env->reset(4, obs.data());
  for (int t = 0; t < 10; ++t) env->step(std::vector<float>{torque(t)}, obs.data());
  const std::vector<double> saved = env->statistics();

  auto restored = std::make_unique<NormalizeReward>(make_env("Pendulum-v1"));
  restored->load_statistics(saved);
  CHECK(restored->statistics() == saved);
  CHECK(restored->running_stats().var()[0] == saved[2]);

  env->set_updating(false);
  restored->set_updating(false);
  std::vector<float> obs2(3);
  env->set_state({0.5, 0.5});
  restored->set_state({0.5, 0.5});
  const StepResult a = env->step(std::vector<float>{1.0f}, obs.data());
  const StepResult b = restored->step(std::vector<float>{1.0f}, obs2.data());
  CHECK(a.reward == b.reward);
  // Frozen: the scale is the saved variance.
  auto twin = make_env("Pendulum-v1");
  twin->set_state({0.5, 0.5});
  const double raw = twin->step(std::vector<float>{1.0f}, obs2.data()).reward;
  CHECK(a.reward == Approx(raw / std::sqrt(saved[2] + 1e-8)).epsilon(1e-12));
  const std::vector<double> after = env->statistics();
  CHECK(after[0] == saved[0]);
  CHECK(after[1] == saved[1]);
  CHECK(after[2] == saved[2]);

  CHECK_THROWS_WITH(env->load_statistics({1.0, 0.0, 1.0}), Catch::Contains("4 values"));
  CHECK_THROWS_WITH(NormalizeReward(make_env("Pendulum-v1"), 1.5), Catch::Contains("gamma"));
  CHECK_THROWS_AS(NormalizeReward(make_env("Pendulum-v1"), -0.1), EnvError);
}

// ---- FrameStack ----

TEST_CASE("FrameStack stacks oldest to newest and pads on reset", "[wrappers][framestack]") {
  auto env = std::make_unique<FrameStack>(make_env("CartPole-v1"), 3);
  const Space& inner_space = env->inner().spec().observation_space;
  const Space& space = env->spec().observation_space;
  CHECK(space.shape() == std::vector<int64_t>{3, 4});
  CHECK(space.size() == 12);
  for (std::size_t k = 0; k < 3; ++k) {
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(space.low()[k * 4 + i] == inner_space.low()[i]);
      CHECK(space.high()[k * 4 + i] == inner_space.high()[i]);
    }
  }

  auto twin = make_env("CartPole-v1");
  std::vector<float> obs(12), raw(4);
  std::vector<std::vector<float>> history;
  auto expect_stack = [&](const std::vector<std::vector<float>>& frames) {
    REQUIRE(frames.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) {
      const std::vector<float> got(obs.begin() + static_cast<long>(4 * k),
                                   obs.begin() + static_cast<long>(4 * k + 4));
      INFO("frame " << k);
      CHECK(got == frames[k]);
    }
  };

  for (int episode = 0; episode < 2; ++episode) {
    env->reset(100 + episode, obs.data());
    twin->reset(100 + episode, raw.data());
    const std::vector<float> first = raw;
    expect_stack({first, first, first});  // reset fills the stack with the first observation
    twin->step(int64_t{0}, raw.data());
    env->step(int64_t{0}, obs.data());
    const std::vector<float> o1 = raw;
    expect_stack({first, first, o1});
    twin->step(int64_t{1}, raw.data());
    env->step(int64_t{1}, obs.data());
    const std::vector<float> o2 = raw;
    expect_stack({first, o1, o2});
    twin->step(int64_t{1}, raw.data());
    env->step(int64_t{1}, obs.data());
    const std::vector<float> o3 = raw;
    expect_stack({o1, o2, o3});
    twin->step(int64_t{0}, raw.data());
    env->step(int64_t{0}, obs.data());
    expect_stack({o2, o3, raw});
  }
}

TEST_CASE("FrameStack of one frame is the identity, bad num_stack refused", "[wrappers][framestack]") {
  auto env = std::make_unique<FrameStack>(make_env("Pendulum-v1"), 1);
  CHECK(env->spec().observation_space.shape() == std::vector<int64_t>{1, 3});
  auto twin = make_env("Pendulum-v1");
  std::vector<float> a(3), b(3);
  env->reset(0, a.data());
  twin->reset(0, b.data());
  CHECK(a == b);
  env->step(std::vector<float>{1.0f}, a.data());
  twin->step(std::vector<float>{1.0f}, b.data());
  CHECK(a == b);

  CHECK_THROWS_WITH(FrameStack(make_env("Pendulum-v1"), 0), Catch::Contains("num_stack >= 1"));
}

TEST_CASE("FrameStack stacks uint8 observations byte for byte", "[wrappers][framestack]") {
  auto env = std::make_unique<FrameStack>(std::make_unique<ByteEnv>(), 2);
  const Space& space = env->spec().observation_space;
  CHECK(space == Space::box({2, 2, 2}, 0.0f, 255.0f, DType::UInt8));
  CHECK(space.byte_size() == 8);
  std::vector<uint8_t> obs(8);
  env->reset(0, obs.data());
  CHECK(obs == std::vector<uint8_t>{0, 1, 2, 3, 0, 1, 2, 3});
  env->step(int64_t{0}, obs.data());
  CHECK(obs == std::vector<uint8_t>{0, 1, 2, 3, 10, 11, 12, 13});
  env->step(int64_t{0}, obs.data());
  CHECK(obs == std::vector<uint8_t>{10, 11, 12, 13, 20, 21, 22, 23});
}

TEST_CASE("FrameStack needs a Box observation space", "[wrappers][framestack]") {
  CHECK_THROWS_WITH(FrameStack(std::make_unique<ByteEnv>(/*discrete_obs=*/true), 2),
                    Catch::Contains("FrameStack needs a Box observation space") &&
                        Catch::Contains("Discrete(4)"));
}

// ---- composition ----

TEST_CASE("wrappers compose and unwrapped() reaches the simulator", "[wrappers]") {
  std::unique_ptr<Env> env = make_env("Pendulum-v1");
  env = std::make_unique<ClipAction>(std::move(env));
  env = std::make_unique<TimeLimit>(std::move(env), 3);
  env = std::make_unique<FrameStack>(std::move(env), 2);
  CHECK(dynamic_cast<Pendulum*>(&env->unwrapped()) != nullptr);
  CHECK(env->id() == "Pendulum-v1");
  CHECK(env->spec().max_episode_steps == 3);
  CHECK(env->spec().observation_space.shape() == std::vector<int64_t>{2, 3});
  CHECK(env->has_state());
  std::vector<float> obs(6);
  env->reset(0, obs.data());
  CHECK(env->state() == env->unwrapped().state());
  StepResult r;
  for (int t = 0; t < 3; ++t) r = env->step(std::vector<float>{10.0f}, obs.data());
  CHECK(r.truncated);
  CHECK(dynamic_cast<Pendulum&>(env->unwrapped()).last_torque() == 2.0f);
}

// ---- by name ----

TEST_CASE("wrap_env builds wrappers by name with options", "[wrappers][byname]") {
  const std::vector<std::string> names = wrapper_names();
  for (const char* n : {"TimeLimit", "EpisodeStatistics", "ClipAction", "RescaleAction",
                        "NormalizeObservation", "NormalizeReward", "FrameStack"}) {
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  }

  auto stacked = wrap_env(make_env("CartPole-v1"), {"FrameStack", {{"num_stack", int64_t{2}}}});
  CHECK(stacked->spec().observation_space.shape() == std::vector<int64_t>{2, 4});
  CHECK(dynamic_cast<FrameStack*>(stacked.get()) != nullptr);
  auto default_stack = wrap_env(make_env("CartPole-v1"), {"FrameStack", {}});
  CHECK(default_stack->spec().observation_space.shape() == std::vector<int64_t>{4, 4});

  auto limited = wrap_env(make_env("Pendulum-v1"),
                          {"TimeLimit", {{"max_episode_steps", std::string("2")}}});
  CHECK(limited->spec().max_episode_steps == 2);
  std::vector<float> obs(3);
  limited->reset(0, obs.data());
  CHECK_FALSE(limited->step(std::vector<float>{0.0f}, obs.data()).truncated);
  CHECK(limited->step(std::vector<float>{0.0f}, obs.data()).truncated);

  auto rescaled = wrap_env(make_env("Pendulum-v1"),
                           {"RescaleAction", {{"min_action", 0.0}, {"max_action", int64_t{4}}}});
  CHECK(rescaled->spec().action_space == Space::box({1}, 0.0f, 4.0f));

  auto clipped = wrap_env(make_env("Pendulum-v1"), {"NormalizeObservation", {{"clip", 5.0}}});
  CHECK(clipped->spec().observation_space == Space::box({3}, -5.0f, 5.0f));

  auto stats = wrap_env(make_env("CartPole-v1"), {"EpisodeStatistics", {}});
  CHECK(dynamic_cast<EpisodeStatistics*>(stats.get()) != nullptr);
  auto reward = wrap_env(make_env("CartPole-v1"), {"NormalizeReward", {{"gamma", 0.5}}});
  CHECK(dynamic_cast<StatisticsWrapper*>(reward.get()) != nullptr);

  const auto options = wrapper_options("RescaleAction");
  REQUIRE(options.size() == 2);
  CHECK(options[0].name == "min_action");
  CHECK(options[1].name == "max_action");
}

TEST_CASE("wrap_env errors are clear", "[wrappers][byname][errors]") {
  const std::string unknown = error_of([] { wrap_env(make_env("CartPole-v1"), {"Clip", {}}); });
  CHECK_THAT(unknown, Catch::Contains("unknown wrapper 'Clip'") && Catch::Contains("ClipAction") &&
                          Catch::Contains("FrameStack") && Catch::Contains("TimeLimit"));
  CHECK_THROWS_AS(wrapper_options("Nope"), EnvError);

  const std::string option = error_of(
      [] { wrap_env(make_env("CartPole-v1"), {"FrameStack", {{"stack", int64_t{2}}}}); });
  CHECK_THAT(option, Catch::Contains("wrapper 'FrameStack'") && Catch::Contains("'stack'") &&
                         Catch::Contains("valid options: num_stack"));

  const std::string none = error_of(
      [] { wrap_env(make_env("CartPole-v1"), {"ClipAction", {{"low", 1.0}}}); });
  CHECK_THAT(none, Catch::Contains("valid options: (none)"));

  const std::string typed = error_of([] {
    wrap_env(make_env("CartPole-v1"), {"FrameStack", {{"num_stack", std::string("four")}}});
  });
  CHECK_THAT(typed, Catch::Contains("num_stack") && Catch::Contains("an integer") &&
                        Catch::Contains("\"four\""));

  const std::string space = error_of([] { wrap_env(make_env("CartPole-v1"), {"ClipAction", {}}); });
  CHECK_THAT(space, Catch::Contains("ClipAction needs a float32 Box action space") &&
                        Catch::Contains("CartPole-v1") && Catch::Contains("Discrete(2)"));

  // TimeLimit by name needs its limit.
  CHECK_THROWS_WITH(wrap_env(make_env("CartPole-v1"), {"TimeLimit", {}}),
                    Catch::Contains("max_episode_steps > 0"));
}

// ---- RunningMeanStd ----

TEST_CASE("RunningMeanStd matches a direct two-pass computation", "[wrappers][rms]") {
  Rng rng(77);
  const std::size_t dims = 3;
  std::vector<std::vector<double>> data;
  for (int t = 0; t < 1000; ++t) {
    data.push_back({rng.uniform(-5.0, 5.0), 100.0 + rng.normal() * 0.01, rng.exponential()});
  }

  SECTION("without a prior: plain population mean and variance") {
    RunningMeanStd rms(dims, 0.0);
    for (const auto& row : data) rms.update(row.data());
    CHECK(rms.count() == 1000.0);
    for (std::size_t i = 0; i < dims; ++i) {
      double mean = 0.0;
      for (const auto& row : data) mean += row[i];
      mean /= static_cast<double>(data.size());
      double var = 0.0;
      for (const auto& row : data) var += (row[i] - mean) * (row[i] - mean);
      var /= static_cast<double>(data.size());
      CHECK(rms.mean()[i] == Approx(mean).epsilon(1e-12));
      CHECK(rms.var()[i] == Approx(var).epsilon(1e-9));
    }
  }
  SECTION("with the default prior (count 1e-4, mean 0, var 1)") {
    RunningMeanStd rms(dims);
    CHECK(rms.count() == 1e-4);
    CHECK(rms.mean() == std::vector<double>(dims, 0.0));
    CHECK(rms.var() == std::vector<double>(dims, 1.0));
    PooledStats pooled(dims);
    for (const auto& row : data) {
      rms.update(row.data());
      pooled.add(row);
    }
    CHECK(rms.count() == Approx(1000.0001));
    for (std::size_t i = 0; i < dims; ++i) {
      CHECK(rms.mean()[i] == Approx(pooled.mean(i)).epsilon(1e-12));
      CHECK(rms.var()[i] == Approx(pooled.var(i)).epsilon(1e-9));
    }
  }
  SECTION("float and double updates agree on float data") {
    RunningMeanStd a(2), b(2);
    for (int t = 0; t < 50; ++t) {
      const std::vector<float> f{static_cast<float>(rng.normal()), static_cast<float>(t)};
      const std::vector<double> d(f.begin(), f.end());
      a.update(f.data());
      b.update(d.data());
    }
    CHECK(a.save() == b.save());
  }
}

TEST_CASE("RunningMeanStd save/load round trip", "[wrappers][rms]") {
  RunningMeanStd a(2);
  const double x1[2] = {1.0, -2.0}, x2[2] = {3.0, 5.0};
  a.update(x1);
  a.update(x2);
  const std::vector<double> s = a.save();
  REQUIRE(s.size() == 5);
  CHECK(s[0] == a.count());
  CHECK(s[1] == a.mean()[0]);
  CHECK(s[2] == a.mean()[1]);
  CHECK(s[3] == a.var()[0]);
  CHECK(s[4] == a.var()[1]);

  RunningMeanStd b(2);
  b.load(s);
  CHECK(b.save() == s);
  const double x3[2] = {-1.0, 0.5};
  a.update(x3);
  b.update(x3);
  CHECK(a.save() == b.save());

  CHECK_THROWS_AS(b.load({1.0, 2.0}), std::invalid_argument);
  CHECK_THROWS_AS(RunningMeanStd(3).load(s), std::invalid_argument);
}

TEST_CASE("ActionRepeat applies an action several times and sums the rewards", "[wrappers]") {
  auto twin = make_env("CartPole-v1");
  ActionRepeat env(make_env("CartPole-v1"), 3);
  CHECK(env.spec().max_episode_steps == 167);  // ceil(500 / 3) outer steps
  std::vector<float> a(4), b(4);
  twin->reset(5, a.data());
  env.reset(5, b.data());
  StepResult outer = env.step(int64_t{1}, b.data());
  double expected = 0;
  for (int k = 0; k < 3; ++k) expected += twin->step(int64_t{1}, a.data()).reward;
  CHECK(outer.reward == expected);
  CHECK(a == b);
  // Stops at the end of the episode, within the repeats.
  int outer_steps = 1, inner_steps = 3;
  while (!outer.terminated) {
    outer = env.step(int64_t{1}, b.data());
    ++outer_steps;
    StepResult r;
    for (int k = 0; k < 3; ++k) {
      r = twin->step(int64_t{1}, a.data());
      ++inner_steps;
      if (r.terminated) break;
    }
    CHECK(a == b);
    CHECK(r.terminated == outer.terminated);
  }
  CHECK(outer_steps < inner_steps);
  CHECK(error_of([] { ActionRepeat bad(make_env("CartPole-v1"), 0); }).find("repeat >= 1") != std::string::npos);
}
