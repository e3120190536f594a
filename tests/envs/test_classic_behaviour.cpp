// Classic-control envs: specs as in Gymnasium, reset distributions, options, rewards and the
// errors the Env contract promises (call order, invalid actions).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/envs/classic/pendulum.h"
#include "rlforge/envs/registry.h"
#include "rlforge/render/offscreen_canvas.h"

#include "env_test_helpers.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Steps CartPole with action 1 until it terminates; returns the rewards.
std::vector<double> push_right_until_done(Env& env, std::vector<float>& obs) {
  std::vector<double> rewards;
  for (int i = 0; i < 1000; ++i) {
    const StepResult r = env.step(int64_t{1}, obs.data());
    rewards.push_back(r.reward);
    if (r.terminated) break;
  }
  return rewards;
}

}  // namespace

// ---- specs ----

TEST_CASE("CartPole-v1 spec matches Gymnasium", "[classic][spec]") {
  auto env = make_env("CartPole-v1");
  const EnvSpec& s = env->spec();
  CHECK(s.id == "CartPole-v1");
  const float th = static_cast<float>(12 * 2 * M_PI / 360 * 2);
  CHECK(s.observation_space == Space::box({4}, {-4.8f, -kInf, -th, -kInf}, {4.8f, kInf, th, kInf}));
  CHECK(s.action_space == Space::discrete(2));
  CHECK(s.max_episode_steps == 500);
  REQUIRE(s.reward_threshold.has_value());
  CHECK(*s.reward_threshold == 475.0);
}

TEST_CASE("MountainCar-v0 spec matches Gymnasium", "[classic][spec]") {
  auto env = make_env("MountainCar-v0");
  const EnvSpec& s = env->spec();
  CHECK(s.id == "MountainCar-v0");
  CHECK(s.observation_space == Space::box({2}, {-1.2f, -0.07f}, {0.6f, 0.07f}));
  CHECK(s.action_space == Space::discrete(3));
  CHECK(s.max_episode_steps == 200);
  REQUIRE(s.reward_threshold.has_value());
  CHECK(*s.reward_threshold == -110.0);
}

TEST_CASE("MountainCarContinuous-v0 spec matches Gymnasium", "[classic][spec]") {
  auto env = make_env("MountainCarContinuous-v0");
  const EnvSpec& s = env->spec();
  CHECK(s.id == "MountainCarContinuous-v0");
  CHECK(s.observation_space == Space::box({2}, {-1.2f, -0.07f}, {0.6f, 0.07f}));
  CHECK(s.action_space == Space::box({1}, -1.0f, 1.0f));
  CHECK(s.max_episode_steps == 999);
  REQUIRE(s.reward_threshold.has_value());
  CHECK(*s.reward_threshold == 90.0);
}

TEST_CASE("Pendulum-v1 spec matches Gymnasium", "[classic][spec]") {
  auto env = make_env("Pendulum-v1");
  const EnvSpec& s = env->spec();
  CHECK(s.id == "Pendulum-v1");
  CHECK(s.observation_space == Space::box({3}, {-1.0f, -1.0f, -8.0f}, {1.0f, 1.0f, 8.0f}));
  CHECK(s.action_space == Space::box({1}, -2.0f, 2.0f));
  CHECK(s.action_space.describe() == "Box(-2.0, 2.0, (1,), float32)");
  CHECK(s.max_episode_steps == 200);
  CHECK_FALSE(s.reward_threshold.has_value());
}

TEST_CASE("Acrobot-v1 spec matches Gymnasium", "[classic][spec]") {
  auto env = make_env("Acrobot-v1");
  const EnvSpec& s = env->spec();
  CHECK(s.id == "Acrobot-v1");
  const float v1 = static_cast<float>(4 * M_PI), v2 = static_cast<float>(9 * M_PI);
  CHECK(s.observation_space ==
        Space::box({6}, {-1, -1, -1, -1, -v1, -v2}, {1, 1, 1, 1, v1, v2}));
  CHECK(s.action_space == Space::discrete(3));
  CHECK(s.max_episode_steps == 500);
  REQUIRE(s.reward_threshold.has_value());
  CHECK(*s.reward_threshold == -100.0);
}

// ---- reset distributions ----

TEST_CASE("CartPole reset state is uniform within 0.05 of zero", "[classic][reset]") {
  auto env = make_env("CartPole-v1");
  std::vector<float> obs(4);
  double lo = 1, hi = -1;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    env->reset(seed, obs.data());
    const std::vector<double> s = env->state();
    for (int i = 0; i < 4; ++i) {
      REQUIRE(s[i] >= -0.05);
      REQUIRE(s[i] <= 0.05);
      REQUIRE(obs[i] == static_cast<float>(s[i]));  // the observation is the state
      lo = std::min(lo, s[i]);
      hi = std::max(hi, s[i]);
    }
  }
  // The whole interval is used, not a corner of it.
  CHECK(lo < -0.049);
  CHECK(hi > 0.049);
}

TEST_CASE("MountainCar reset: position between -0.6 and -0.4, velocity 0", "[classic][reset]") {
  for (const char* id : {"MountainCar-v0", "MountainCarContinuous-v0"}) {
    INFO(id);
    auto env = make_env(id);
    std::vector<float> obs(2);
    double lo = 0, hi = -1;
    for (uint64_t seed = 0; seed < 500; ++seed) {
      env->reset(seed, obs.data());
      const std::vector<double> s = env->state();
      REQUIRE(s[0] >= -0.6);
      REQUIRE(s[0] <= -0.4);
      REQUIRE(s[1] == 0.0);
      REQUIRE(obs[1] == 0.0f);
      lo = std::min(lo, s[0]);
      hi = std::max(hi, s[0]);
    }
    CHECK(lo < -0.59);
    CHECK(hi > -0.41);
  }
}

TEST_CASE("Pendulum reset: theta within pi, theta_dot within 1", "[classic][reset]") {
  auto env = make_env("Pendulum-v1");
  std::vector<float> obs(3);
  double th_lo = 0, th_hi = 0, v_lo = 0, v_hi = 0;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    env->reset(seed, obs.data());
    const std::vector<double> s = env->state();
    REQUIRE(s[0] >= -M_PI);
    REQUIRE(s[0] <= M_PI);
    REQUIRE(s[1] >= -1.0);
    REQUIRE(s[1] <= 1.0);
    REQUIRE(obs[0] == Approx(std::cos(s[0])).margin(1e-6));
    REQUIRE(obs[1] == Approx(std::sin(s[0])).margin(1e-6));
    REQUIRE(obs[2] == static_cast<float>(s[1]));
    th_lo = std::min(th_lo, s[0]);
    th_hi = std::max(th_hi, s[0]);
    v_lo = std::min(v_lo, s[1]);
    v_hi = std::max(v_hi, s[1]);
  }
  CHECK(th_lo < -3.0);
  CHECK(th_hi > 3.0);
  CHECK(v_lo < -0.95);
  CHECK(v_hi > 0.95);
}

TEST_CASE("Acrobot reset state is within 0.1 of zero", "[classic][reset]") {
  auto env = make_env("Acrobot-v1");
  std::vector<float> obs(6);
  double lo = 1, hi = -1;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    env->reset(seed, obs.data());
    const std::vector<double> s = env->state();
    for (int i = 0; i < 4; ++i) {
      // Gymnasium stores the draw as float32; rounding may step just past 0.1.
      REQUIRE(std::abs(s[i]) <= static_cast<double>(0.1f));
      REQUIRE(static_cast<double>(static_cast<float>(s[i])) == s[i]);
      lo = std::min(lo, s[i]);
      hi = std::max(hi, s[i]);
    }
    REQUIRE(obs[0] == Approx(std::cos(s[0])).margin(1e-6));
    REQUIRE(obs[3] == Approx(std::sin(s[1])).margin(1e-6));
    REQUIRE(obs[4] == static_cast<float>(s[2]));
  }
  CHECK(lo < -0.099);
  CHECK(hi > 0.099);
}

TEST_CASE("reset(seed) is reproducible and reset() continues the generator", "[classic][reset]") {
  for (const char* id : {"CartPole-v1", "Pendulum-v1", "Acrobot-v1"}) {
    INFO(id);
    auto a = make_env(id), b = make_env(id);
    const std::size_t n = a->spec().observation_space.size();
    std::vector<float> oa(n), ob(n), first(n);
    a->reset(7, first.data());
    b->reset(7, ob.data());
    CHECK(first == ob);
    a->reset(std::nullopt, oa.data());  // continues seed 7's stream: a new start state
    CHECK(oa != first);
    b->reset(std::nullopt, ob.data());
    CHECK(oa == ob);
    a->reset(7, oa.data());  // reseeding starts over
    CHECK(oa == first);
    a->reset(8, oa.data());
    CHECK(oa != first);
  }
}

// ---- rewards, termination and options ----

TEST_CASE("CartPole reward: +1 per step by default, sutton_barto_reward gives 0 and -1 on failure",
          "[classic][reward]") {
  auto plain = make_env("CartPole-v1");
  auto sb = make_env("CartPole-v1", {{"sutton_barto_reward", true}});
  std::vector<float> o1(4), o2(4);
  plain->reset(3, o1.data());
  sb->reset(3, o2.data());
  CHECK(o1 == o2);
  const auto r1 = push_right_until_done(*plain, o1);
  const auto r2 = push_right_until_done(*sb, o2);
  CHECK(o1 == o2);  // same dynamics
  REQUIRE(r1.size() == r2.size());
  REQUIRE(r1.size() > 1);
  REQUIRE(r1.size() < 100);  // pushing one way fails quickly
  for (std::size_t i = 0; i < r1.size(); ++i) {
    CHECK(r1[i] == 1.0);
    CHECK(r2[i] == (i + 1 == r2.size() ? -1.0 : 0.0));
  }
}

TEST_CASE("CartPole terminates beyond x = 2.4 and theta = 12 degrees", "[classic][reward]") {
  auto env = make_env("CartPole-v1");
  std::vector<float> obs(4);
  env->set_state({2.39, 1.0, 0.0, 0.0});  // x passes 2.4 in one step of 0.02 s
  StepResult r = env->step(int64_t{1}, obs.data());
  CHECK(r.terminated);
  CHECK(r.reward == 1.0);
  env->set_state({0.0, 0.0, 0.0, 0.0});
  r = env->step(int64_t{1}, obs.data());
  CHECK_FALSE(r.terminated);
  env->set_state({0.0, 0.0, 0.2, 1.0});  // theta passes 0.2094 in one step
  r = env->step(int64_t{0}, obs.data());
  CHECK(r.terminated);
}

TEST_CASE("Pendulum g option changes the dynamics", "[classic][options]") {
  std::vector<float> o10(3), o2(3);
  auto g10 = make_env("Pendulum-v1");
  auto g2 = make_env("Pendulum-v1", {{"g", 2.0}});
  g10->set_state({1.0, 0.0});
  g2->set_state({1.0, 0.0});
  const StepResult r10 = g10->step(std::vector<float>{0.0f}, o10.data());
  const StepResult r2 = g2->step(std::vector<float>{0.0f}, o2.data());
  // Semi-implicit Euler: theta_dot' = theta_dot + 3 g / (2 l) sin(theta) dt, dt = 0.05.
  CHECK(o10[2] == Approx(3 * 10.0 / 2 * std::sin(1.0) * 0.05).epsilon(1e-6));
  CHECK(o2[2] == Approx(3 * 2.0 / 2 * std::sin(1.0) * 0.05).epsilon(1e-6));
  CHECK(g2->state()[0] == Approx(1.0 + 3 * 2.0 / 2 * std::sin(1.0) * 0.05 * 0.05));
  // The cost depends on the state before the step only, so it is the same.
  CHECK(r10.reward == r2.reward);
  CHECK(r10.reward == Approx(-1.0));
}

TEST_CASE("Pendulum reward is -(angle^2 + 0.1 speed^2 + 0.001 torque^2)", "[classic][reward]") {
  auto env = make_env("Pendulum-v1");
  std::vector<float> obs(3);
  // theta = 2 pi + 0.5 normalises to 0.5.
  env->set_state({2 * M_PI + 0.5, 2.0});
  const StepResult r = env->step(std::vector<float>{1.5f}, obs.data());
  CHECK(r.reward == Approx(-(0.25 + 0.1 * 4.0 + 0.001 * 2.25)).epsilon(1e-12));
  CHECK_FALSE(r.terminated);
  CHECK_FALSE(r.truncated);
}

TEST_CASE("MountainCarContinuous reward at the goal is 100 - 0.1 a^2", "[classic][reward]") {
  auto env = make_env("MountainCarContinuous-v0");
  std::vector<float> obs(2);
  SECTION("action within bounds") {
    env->set_state({0.44, 0.05});
    const StepResult r = env->step(std::vector<float>{0.5f}, obs.data());
    CHECK(obs[0] >= 0.45f);
    CHECK(r.terminated);
    CHECK(r.reward == Approx(100.0 - 0.1 * 0.25).epsilon(1e-12));
  }
  SECTION("the penalty uses the unclipped action") {
    env->set_state({0.44, 0.05});
    const StepResult r = env->step(std::vector<float>{1.5f}, obs.data());
    CHECK(r.terminated);
    CHECK(r.reward == Approx(100.0 - 0.1 * 2.25).epsilon(1e-12));
  }
  SECTION("away from the goal only the penalty remains") {
    env->set_state({-0.5, 0.0});
    const StepResult r = env->step(std::vector<float>{-0.5f}, obs.data());
    CHECK_FALSE(r.terminated);
    CHECK(r.reward == Approx(-0.1 * 0.25).epsilon(1e-12));
  }
  SECTION("goal_velocity option holds back termination") {
    auto strict = make_env("MountainCarContinuous-v0", {{"goal_velocity", 0.06}});
    strict->set_state({0.44, 0.05});
    const StepResult r = strict->step(std::vector<float>{0.0f}, obs.data());
    CHECK(obs[0] >= 0.45f);
    CHECK_FALSE(r.terminated);
    CHECK(r.reward == 0.0);
  }
}

TEST_CASE("MountainCar terminates at the goal with reward -1 per step", "[classic][reward]") {
  auto env = make_env("MountainCar-v0");
  std::vector<float> obs(2);
  env->set_state({0.49, 0.03});
  StepResult r = env->step(int64_t{2}, obs.data());
  CHECK(r.terminated);
  CHECK(r.reward == -1.0);
  env->set_state({-0.5, 0.0});
  r = env->step(int64_t{1}, obs.data());
  CHECK_FALSE(r.terminated);
  CHECK(r.reward == -1.0);
}

TEST_CASE("Acrobot gives -1 per step and 0 when the tip is above the bar", "[classic][reward]") {
  auto env = make_env("Acrobot-v1");
  std::vector<float> obs(6);
  env->set_state({0.0, 0.0, 0.0, 0.0});
  StepResult r = env->step(int64_t{1}, obs.data());
  CHECK(r.reward == -1.0);
  CHECK_FALSE(r.terminated);
  env->set_state({3.1, 0.0, 0.0, 0.0});  // nearly straight up
  r = env->step(int64_t{1}, obs.data());
  CHECK(r.terminated);
  CHECK(r.reward == 0.0);
}

// ---- call order ----

TEST_CASE("step before reset throws EnvError", "[classic][errors]") {
  for (const char* id : {"CartPole-v1", "Pendulum-v1"}) {
    auto env = make_env(id);
    std::vector<float> obs(env->spec().observation_space.size());
    CHECK(env->needs_reset());
    std::string msg;
    if (env->spec().action_space.is_discrete()) {
      msg = error_of([&] { env->step(int64_t{0}, obs.data()); });
    } else {
      msg = error_of([&] { env->step(std::vector<float>{0.0f}, obs.data()); });
    }
    CHECK_THAT(msg, Catch::Contains(id) && Catch::Contains("before reset()"));
  }
}

TEST_CASE("step after termination throws EnvError until reset", "[classic][errors]") {
  auto env = make_env("CartPole-v1");
  std::vector<float> obs(4);
  env->reset(0, obs.data());
  push_right_until_done(*env, obs);
  CHECK(env->needs_reset());
  const std::string msg = error_of([&] { env->step(int64_t{0}, obs.data()); });
  CHECK_THAT(msg, Catch::Contains("CartPole-v1") && Catch::Contains("after the episode ended"));
  env->reset(std::nullopt, obs.data());
  CHECK_FALSE(env->needs_reset());
  CHECK_NOTHROW(env->step(int64_t{0}, obs.data()));
}

TEST_CASE("set_state makes an env steppable and checks the state size", "[classic][errors]") {
  auto env = make_env("MountainCar-v0");
  std::vector<float> obs(2);
  CHECK_THROWS_WITH(env->set_state({0.1}), Catch::Contains("expects 2 values, got 1"));
  env->set_state({-0.5, 0.01});
  CHECK_FALSE(env->needs_reset());
  CHECK(env->state() == std::vector<double>{-0.5, 0.01});
  CHECK_NOTHROW(env->step(int64_t{1}, obs.data()));
}

// ---- invalid actions ----

TEST_CASE("invalid discrete actions throw EnvError naming the env and the space",
          "[classic][errors]") {
  auto env = make_env("CartPole-v1");
  std::vector<float> obs(4);
  env->reset(1, obs.data());
  const std::vector<double> before = env->state();

  for (int64_t bad : {int64_t{2}, int64_t{-1}}) {
    const std::string msg = error_of([&] { env->step(bad, obs.data()); });
    CHECK_THAT(msg, Catch::Contains("CartPole-v1") && Catch::Contains("Discrete(2)") &&
                        Catch::Contains("action " + std::to_string(bad)));
  }
  // A float action for a discrete space: wrong type.
  const std::string typed =
      error_of([&] { env->step(std::vector<float>{1.0f}, obs.data()); });
  CHECK_THAT(typed, Catch::Contains("CartPole-v1") && Catch::Contains("Discrete(2)") &&
                        Catch::Contains("float32"));
  // Two int64 values: wrong count.
  const int64_t two[2] = {0, 1};
  const std::string counted =
      error_of([&] { env->step(ActionRef{two, DType::Int64, 2}, obs.data()); });
  CHECK_THAT(counted, Catch::Contains("CartPole-v1") && Catch::Contains("Discrete(2)") &&
                          Catch::Contains("expected 1 int64"));
  CHECK_THROWS_WITH(env->step(ActionRef{nullptr, DType::Int64, 1}, obs.data()),
                    Catch::Contains("missing"));

  // None of that changed the env, and it still steps.
  CHECK(env->state() == before);
  CHECK_FALSE(env->needs_reset());
  CHECK_NOTHROW(env->step(int64_t{1}, obs.data()));
}

TEST_CASE("non-finite or miscounted continuous actions throw EnvError", "[classic][errors]") {
  auto env = make_env("Pendulum-v1");
  std::vector<float> obs(3);
  env->reset(2, obs.data());
  const std::vector<double> before = env->state();
  const std::string space = "Box(-2.0, 2.0, (1,), float32)";

  const std::string nan_msg = error_of([&] { env->step(std::vector<float>{kNaN}, obs.data()); });
  CHECK_THAT(nan_msg, Catch::Contains("Pendulum-v1") && Catch::Contains(space) &&
                          Catch::Contains("[nan]") && Catch::Contains("non-finite"));
  const std::string inf_msg = error_of([&] { env->step(std::vector<float>{kInf}, obs.data()); });
  CHECK_THAT(inf_msg, Catch::Contains("Pendulum-v1") && Catch::Contains(space));

  const std::string count_msg =
      error_of([&] { env->step(std::vector<float>{0.0f, 0.0f}, obs.data()); });
  CHECK_THAT(count_msg, Catch::Contains("Pendulum-v1") && Catch::Contains(space) &&
                            Catch::Contains("2 float32"));
  const float zero = 0.0f;
  const std::string empty_msg =
      error_of([&] { env->step(ActionRef{&zero, DType::Float32, 0}, obs.data()); });
  CHECK_THAT(empty_msg, Catch::Contains("Pendulum-v1") && Catch::Contains(space) &&
                            Catch::Contains("0 float32"));
  const std::string int_msg = error_of([&] { env->step(int64_t{1}, obs.data()); });
  CHECK_THAT(int_msg, Catch::Contains("Pendulum-v1") && Catch::Contains("int64"));

  CHECK(env->state() == before);
  CHECK_NOTHROW(env->step(std::vector<float>{0.0f}, obs.data()));

  auto mcc = make_env("MountainCarContinuous-v0");
  mcc->reset(0, obs.data());
  CHECK_THAT(error_of([&] { mcc->step(std::vector<float>{-kInf}, obs.data()); }),
             Catch::Contains("MountainCarContinuous-v0") &&
                 Catch::Contains("Box(-1.0, 1.0, (1,), float32)"));
}

TEST_CASE("continuous actions beyond the bounds are accepted and clipped", "[classic][actions]") {
  SECTION("Pendulum: beyond the bound acts as the bound") {
    const std::vector<std::pair<float, float>> cases = {{5.0f, 2.0f}, {-100.0f, -2.0f}};
    for (const auto& [beyond, bound] : cases) {
      auto a = make_env("Pendulum-v1"), b = make_env("Pendulum-v1");
      std::vector<float> oa(3), ob(3);
      a->set_state({0.7, -0.3});
      b->set_state({0.7, -0.3});
      StepResult ra, rb;
      REQUIRE_NOTHROW(ra = a->step(std::vector<float>{beyond}, oa.data()));
      rb = b->step(std::vector<float>{bound}, ob.data());
      CHECK(oa == ob);
      CHECK(ra.reward == rb.reward);
      CHECK(a->state() == b->state());
      CHECK(dynamic_cast<Pendulum&>(a->unwrapped()).last_torque() == bound);
    }
  }
  SECTION("MountainCarContinuous: same motion as the bound") {
    auto a = make_env("MountainCarContinuous-v0"), b = make_env("MountainCarContinuous-v0");
    std::vector<float> oa(2), ob(2);
    a->set_state({-0.5, 0.0});
    b->set_state({-0.5, 0.0});
    const StepResult ra = a->step(std::vector<float>{3.0f}, oa.data());
    const StepResult rb = b->step(std::vector<float>{1.0f}, ob.data());
    CHECK(oa == ob);
    CHECK(oa[1] > 0.0f);
    CHECK(ra.reward == Approx(-0.9));  // the penalty is of the action given
    CHECK(rb.reward == Approx(-0.1));
  }
}

// An episode started by set_state() that has ended must be reported as ended, not as never reset.
TEST_CASE("step after an episode started by set_state ended says the episode ended",
          "[classic][errors]") {
  auto env = make_env("CartPole-v1");
  std::vector<float> obs(4);
  env->set_state({2.39, 1.0, 0.0, 0.0});
  REQUIRE(env->step(int64_t{1}, obs.data()).terminated);
  const std::string msg = error_of([&] { env->step(int64_t{1}, obs.data()); });
  CHECK_THAT(msg, Catch::Contains("after the episode ended"));
}

TEST_CASE("a snapshot of one env does not restore into another kind", "[classic][snapshot]") {
  auto cartpole = make_env("CartPole-v1");
  auto pendulum = make_env("Pendulum-v1");
  std::vector<float> obs(4);
  cartpole->reset(1, obs.data());
  const std::string snap = cartpole->snapshot();
  CHECK_THAT(error_of([&] { pendulum->restore(snap); }), Catch::Contains("snapshot does not fit"));
  CHECK_THAT(error_of([&] { cartpole->restore(snap.substr(0, 10)); }), Catch::Contains("shorter than expected"));
}

TEST_CASE("Acrobot steps from a state set far outside its angle range", "[classic][acrobot]") {
  // Found by fuzz_env_snapshot: wrapping 1e300 by subtracting 2 pi never ended.
  const auto env = make_env("Acrobot-v1");
  std::vector<float> obs(6);
  env->reset(0, obs.data());
  env->set_state({1e300, -1e300, 0.0, 0.0});
  env->step(int64_t{1}, obs.data());
  const std::vector<double> state = env->state();
  CHECK(std::abs(state[0]) <= M_PI);
  CHECK(std::abs(state[1]) <= M_PI);
  env->set_state({std::numeric_limits<double>::infinity(), 0.0, 0.0, 0.0});
  env->step(int64_t{1}, obs.data());
  CHECK(std::isnan(env->state()[0]));
}

// ---- physical parameters (distribution shifts) ----

namespace {

// `steps` steps from `state` with the same discrete `action`; returns the state after them.
std::vector<double> steps_from(const std::string& id, const Options& options,
                               const std::vector<double>& state, int64_t action, int steps = 1) {
  auto env = make_env(id, options);
  std::vector<float> obs(env->spec().observation_space.size());
  env->set_state(state);
  for (int i = 0; i < steps; ++i) env->step(action, obs.data());
  return env->state();
}

// One step from `state` with the continuous `action`; returns the state after it.
std::vector<double> step_from(const std::string& id, const Options& options,
                              const std::vector<double>& state, float action) {
  auto env = make_env(id, options);
  std::vector<float> obs(env->spec().observation_space.size());
  env->set_state(state);
  env->step(std::vector<float>{action}, obs.data());
  return env->state();
}

}  // namespace

TEST_CASE(
    "classic envs: physical options at Gymnasium's values give the same trajectory as no options",
    "[classic][options][physics]") {
  using rlforge::testing::first_difference;
  using rlforge::testing::seeded_rollout;
  const std::vector<std::pair<std::string, Options>> cases = {
      {"CartPole-v1",
       {{"gravity", 9.8},
        {"masscart", 1.0},
        {"masspole", 0.1},
        {"length", 0.5},
        {"force_mag", 10.0}}},
      // Given as text, as from YAML or --set.
      {"CartPole-v1",
       {{"gravity", std::string("9.8")},
        {"masspole", std::string("0.1")},
        {"length", std::string("0.5")}}},
      {"Pendulum-v1",
       {{"g", 10.0}, {"m", 1.0}, {"l", 1.0}, {"max_torque", 2.0}, {"max_speed", 8.0}}},
      {"Acrobot-v1",
       {{"link_length_1", 1.0},
        {"link_length_2", 1.0},
        {"link_mass_1", 1.0},
        {"link_mass_2", 1.0},
        {"link_com_pos_1", 0.5},
        {"link_com_pos_2", 0.5},
        {"link_moi", 1.0}}},
      {"MountainCar-v0", {{"force", 0.001}, {"gravity", 0.0025}}},
      {"MountainCarContinuous-v0", {{"power", 0.0015}}},
  };
  for (const auto& [id, options] : cases) {
    INFO(id);
    auto plain = make_env(id);
    auto given = make_env(id, options);
    CHECK(given->spec().observation_space == plain->spec().observation_space);
    CHECK(given->spec().action_space == plain->spec().action_space);
    const auto a = seeded_rollout(*plain, 11, 3000);
    const auto b = seeded_rollout(*given, 11, 3000);
    CHECK(first_difference(a.observations, b.observations) == -1);
    CHECK(first_difference(a.rewards, b.rewards) == -1);
    CHECK(first_difference(a.flags, b.flags) == -1);
    // The rollout covered several episodes (every env but Pendulum ends some within 3000 random
    // steps).
    CHECK(a.observations.size() > 3001 * plain->spec().observation_space.byte_size());
  }
}

TEST_CASE("CartPole physical options change the dynamics the way physics says",
          "[classic][options][physics]") {
  const std::vector<double> tilted = {0.0, 0.0, 0.05, 0.0};
  auto theta_after = [&](const Options& o) {  // ten steps of alternating pushes
    auto env = make_env("CartPole-v1", o);
    std::vector<float> obs(4);
    env->set_state(tilted);
    for (int i = 0; i < 10; ++i) env->step(int64_t{i % 2}, obs.data());
    return env->state()[2];
  };
  SECTION("more gravity: the pole falls faster from the same tilt") {
    const double earth = theta_after({}), weak = theta_after({{"gravity", 0.0}}),
                 strong = theta_after({{"gravity", 20.0}});
    CHECK(weak < earth);
    CHECK(earth < strong);
  }
  SECTION("a longer pole falls more slowly") {
    CHECK(theta_after({{"length", 1.0}}) < theta_after({}));
    CHECK(theta_after({}) < theta_after({{"length", 0.25}}));
  }
  SECTION("a stronger push or a lighter cart: more acceleration") {
    const double x_dot = steps_from("CartPole-v1", {}, {0, 0, 0, 0}, 1)[1];
    CHECK(x_dot > 0);
    CHECK(steps_from("CartPole-v1", {{"force_mag", 20.0}}, {0, 0, 0, 0}, 1)[1] > x_dot);
    CHECK(steps_from("CartPole-v1", {{"masscart", 2.0}}, {0, 0, 0, 0}, 1)[1] < x_dot);
    CHECK(steps_from("CartPole-v1", {{"force_mag", 0.0}}, {0, 0, 0, 0}, 1)[1] == 0.0);
  }
  SECTION("Gymnasium's equations with the given constants") {
    // Upright and at rest, a push right: theta_acc = -temp / (l (4/3 - mp / M)), temp = F / M.
    const double mc = 2.0, mp = 0.3, l = 0.8, f = 7.0, total = mp + mc;
    const auto s = steps_from(
        "CartPole-v1",
        {{"masscart", mc}, {"masspole", mp}, {"length", l}, {"force_mag", f}, {"gravity", 3.0}},
        {0, 0, 0, 0}, 1);
    const double temp = f / total;
    const double thetaacc = -temp / (l * (4.0 / 3.0 - mp / total));
    CHECK(s[3] == Approx(0.02 * thetaacc).epsilon(1e-12));
    CHECK(s[1] == Approx(0.02 * (temp - mp * l * thetaacc / total)).epsilon(1e-12));
  }
}

TEST_CASE("Pendulum physical options change the dynamics and the spaces",
          "[classic][options][physics]") {
  // Upright and at rest, a torque of 2: theta_dot' = 3 / (m l^2) u dt (sin 0 = 0).
  SECTION("a heavier mass or a longer rod: the same torque turns it less") {
    CHECK(step_from("Pendulum-v1", {}, {0.0, 0.0}, 2.0f)[1] == Approx(3.0 * 2.0 * 0.05));
    CHECK(step_from("Pendulum-v1", {{"m", 2.0}}, {0.0, 0.0}, 2.0f)[1] ==
          Approx(3.0 / 2.0 * 2.0 * 0.05));
    CHECK(step_from("Pendulum-v1", {{"l", 2.0}}, {0.0, 0.0}, 2.0f)[1] ==
          Approx(3.0 / 4.0 * 2.0 * 0.05));
  }
  SECTION("a longer rod falls more slowly: 3 g / (2 l) sin(theta)") {
    const double fall = step_from("Pendulum-v1", {}, {1.0, 0.0}, 0.0f)[1];
    const double longer = step_from("Pendulum-v1", {{"l", 2.0}}, {1.0, 0.0}, 0.0f)[1];
    CHECK(longer == Approx(fall / 2));
    CHECK(longer > 0);
  }
  SECTION("max_torque sets the action space and the clipping") {
    auto env = make_env("Pendulum-v1", {{"max_torque", 3.0}});
    CHECK(env->spec().action_space == Space::box({1}, -3.0f, 3.0f));
    // 2.5 is clipped to 2 by default, applied as it is with max_torque 3.
    CHECK(step_from("Pendulum-v1", {}, {0.0, 0.0}, 2.5f)[1] == Approx(3.0 * 2.0 * 0.05));
    CHECK(step_from("Pendulum-v1", {{"max_torque", 3.0}}, {0.0, 0.0}, 2.5f)[1] ==
          Approx(3.0 * 2.5 * 0.05));
    CHECK(step_from("Pendulum-v1", {{"max_torque", 1.0}}, {0.0, 0.0}, 2.5f)[1] ==
          Approx(3.0 * 1.0 * 0.05));
  }
  SECTION("max_speed sets the observation bound and the speed clipping") {
    auto env = make_env("Pendulum-v1", {{"max_speed", 12.0}});
    CHECK(env->spec().observation_space ==
          Space::box({3}, {-1.0f, -1.0f, -12.0f}, {1.0f, 1.0f, 12.0f}));
    CHECK(step_from("Pendulum-v1", {}, {0.0, 7.9}, 2.0f)[1] == 8.0);
    CHECK(step_from("Pendulum-v1", {{"max_speed", 12.0}}, {0.0, 7.9}, 2.0f)[1] ==
          Approx(7.9 + 0.3));
  }
}

TEST_CASE("Acrobot physical options change the dynamics as in Gymnasium",
          "[classic][options][physics]") {
  const std::vector<double> hanging = {0.0, 0.0, 0.0, 0.0};
  const std::vector<double> swung = {0.5, 0.2, 0.0, 0.0};
  SECTION("more inertia: the same torque turns the links less") {
    const auto light = steps_from("Acrobot-v1", {{"link_moi", 0.5}}, hanging, 2);
    const auto normal = steps_from("Acrobot-v1", {}, hanging, 2);
    const auto heavy = steps_from("Acrobot-v1", {{"link_moi", 2.0}}, hanging, 2);
    CHECK(std::abs(heavy[3]) < std::abs(normal[3]));
    CHECK(std::abs(normal[3]) < std::abs(light[3]));
    CHECK(normal[3] > 0);  // a positive torque turns link 2 forwards
  }
  SECTION("link 1's length, the masses and the centres of mass enter the dynamics") {
    const auto base = steps_from("Acrobot-v1", {}, swung, 1, 5);
    for (const auto& [name, value] :
         std::vector<std::pair<std::string, double>>{{"link_length_1", 1.5},
                                                     {"link_mass_1", 2.0},
                                                     {"link_mass_2", 2.0},
                                                     {"link_com_pos_1", 0.3},
                                                     {"link_com_pos_2", 0.7}}) {
      INFO(name);
      CHECK(steps_from("Acrobot-v1", {{name, value}}, swung, 1, 5) != base);
    }
  }
  SECTION("link_length_2 is only drawn, as in Gymnasium") {
    CHECK(steps_from("Acrobot-v1", {{"link_length_2", 2.0}}, swung, 1, 5) ==
          steps_from("Acrobot-v1", {}, swung, 1, 5));
    auto picture = [&](const Options& o) {
      auto env = make_env("Acrobot-v1", o);
      env->set_state(swung);
      OffscreenCanvas canvas(64, 64);
      env->render(canvas);
      return canvas.rgb();
    };
    CHECK(picture({{"link_length_2", 2.0}}) != picture({}));
  }
}

TEST_CASE("MountainCar physical options: force and gravity", "[classic][options][physics]") {
  const double bottom = -M_PI / 6;  // cos(3 x) = 0: no pull from the slope
  SECTION("a push changes the velocity by force") {
    CHECK(steps_from("MountainCar-v0", {}, {bottom, 0.0}, 2)[1] == Approx(0.001));
    CHECK(steps_from("MountainCar-v0", {{"force", 0.002}}, {bottom, 0.0}, 2)[1] == Approx(0.002));
    CHECK(steps_from("MountainCar-v0", {{"force", 0.002}}, {bottom, 0.0}, 0)[1] == Approx(-0.002));
  }
  SECTION("more gravity: the slope pulls harder") {
    // At x = -0.9 the slope pulls towards the valley (positive velocity) by -cos(3 x) gravity.
    const double pull = steps_from("MountainCar-v0", {}, {-0.9, 0.0}, 1)[1];
    CHECK(pull == Approx(-std::cos(-2.7) * 0.0025));
    CHECK(steps_from("MountainCar-v0", {{"gravity", 0.005}}, {-0.9, 0.0}, 1)[1] ==
          Approx(2 * pull));
    CHECK(steps_from("MountainCar-v0", {{"gravity", 0.0}}, {-0.9, 0.0}, 1)[1] == 0.0);
  }
  SECTION("MountainCarContinuous: power scales the push") {
    const float v =
        static_cast<float>(step_from("MountainCarContinuous-v0", {}, {bottom, 0.0}, 1.0f)[1]);
    CHECK(v == Approx(0.0015).epsilon(1e-5));
    const double stronger =
        step_from("MountainCarContinuous-v0", {{"power", 0.003}}, {bottom, 0.0}, 1.0f)[1];
    CHECK(stronger == Approx(0.003).epsilon(1e-5));
    CHECK(step_from("MountainCarContinuous-v0", {{"power", 0.003}}, {bottom, 0.0}, -0.5f)[1] ==
          Approx(-0.0015).epsilon(1e-5));
  }
}

TEST_CASE("classic envs refuse physical options outside their range, naming the option",
          "[classic][options][errors]") {
  struct Bad {
    std::string id, option;
    double value;
    std::string range;
  };
  const std::vector<Bad> cases = {
      {"CartPole-v1", "gravity", -9.8, ">= 0"},
      {"CartPole-v1", "masscart", 0.0, "> 0"},
      {"CartPole-v1", "masspole", -0.1, "> 0"},
      {"CartPole-v1", "length", 0.0, "> 0"},
      {"CartPole-v1", "force_mag", -10.0, ">= 0"},
      {"Pendulum-v1", "g", -10.0, ">= 0"},
      {"Pendulum-v1", "m", 0.0, "> 0"},
      {"Pendulum-v1", "l", -1.0, "> 0"},
      {"Pendulum-v1", "max_torque", 0.0, "> 0"},
      {"Pendulum-v1", "max_speed", -8.0, "> 0"},
      {"Pendulum-v1", "max_speed", 1e39, "at most 3.4e38 (the largest float)"},
      {"Acrobot-v1", "link_length_1", 0.0, "> 0"},
      {"Acrobot-v1", "link_length_2", -1.0, "> 0"},
      {"Acrobot-v1", "link_mass_1", 0.0, "> 0"},
      {"Acrobot-v1", "link_mass_2", -1.0, "> 0"},
      {"Acrobot-v1", "link_com_pos_1", -0.5, ">= 0"},
      {"Acrobot-v1", "link_com_pos_2", -0.5, ">= 0"},
      {"Acrobot-v1", "link_moi", 0.0, "> 0"},
      {"MountainCar-v0", "force", -0.001, ">= 0"},
      {"MountainCar-v0", "gravity", -0.0025, ">= 0"},
      {"MountainCarContinuous-v0", "power", -0.0015, ">= 0"},
  };
  for (const Bad& bad : cases) {
    INFO(bad.id << " " << bad.option << " = " << bad.value);
    const std::string message = error_of([&] { make_env(bad.id, {{bad.option, bad.value}}); });
    CHECK_THAT(message, Catch::Contains(bad.id + ": " + bad.option + " must be " + bad.range +
                                        ", got " + option_value_text(bad.value)));
  }
  // Zero where zero makes sense: no gravity, a dead actuator, a centre of mass at the pivot.
  CHECK_NOTHROW(make_env("CartPole-v1", {{"gravity", 0.0}, {"force_mag", 0.0}}));
  CHECK_NOTHROW(make_env("Pendulum-v1", {{"g", 0.0}}));
  CHECK_NOTHROW(make_env("Acrobot-v1", {{"link_com_pos_1", 0.0}, {"link_com_pos_2", 0.0}}));
  CHECK_NOTHROW(make_env("MountainCar-v0", {{"force", 0.0}, {"gravity", 0.0}}));
  CHECK_NOTHROW(make_env("MountainCarContinuous-v0", {{"power", 0.0}}));
  // Parameters set in C++ are checked as well as options.
  CHECK_THROWS_WITH(Pendulum(Pendulum::Params{10.0, std::nan("")}),
                    Catch::Contains("m must be > 0"));
}
