// BipedalWalker against Gymnasium's episode statistics (shared/reference/box2d-stats.md: Gymnasium
// 1.4 on Box2D 2.3) and its mechanics. Tolerances as in test_lunar_lander.cpp: three standard
// errors of the difference of two independent means.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "rlforge/envs/rng.h"
#include "rlforge/envs/box2d/bipedal_walker.h"
#include "rlforge/envs/registry.h"

#include "env_test_helpers.h"

using namespace rlforge;

namespace {

using testing::EpisodeStats;
using testing::ObservationPolicy;
using testing::three_standard_errors;

EpisodeStats run(const std::string& id, int episodes, const std::function<ObservationPolicy()>& begin_episode) {
  auto env = make_env(id);
  return testing::play_episodes(*env, episodes, 10000, begin_episode);
}

// Uniform random actions, from one generator across the episodes of a run.
std::function<ObservationPolicy()> random_policy() {
  auto rng = std::make_shared<Rng>(11);
  return [rng] {
    return [rng](const std::vector<float>&, std::vector<float>& a) {
      for (float& v : a) v = static_cast<float>(rng->uniform(-1.0, 1.0));
    };
  };
}

// A walking gait of the kind box2d-stats.md's heuristic uses: a three-phase state machine (swing
// the moving leg forward, put it down, push off with the supporting leg, swap legs) with PD
// control of hips and knees on the observation, and the hull kept level.
ObservationPolicy walking_policy() {
  struct Gait {
    int phase = 1, moving = 0, supporting = 1;
    double knee_support = 0.1;
  };
  auto g = std::make_shared<Gait>();
  return [g](const std::vector<float>& s, std::vector<float>& a) {
    constexpr double kSpeed = 0.29, kSupportKnee = 0.1;
    const int mb = 4 + 5 * g->moving, sb = 4 + 5 * g->supporting;
    double hip_target[2] = {0, 0}, knee_target[2] = {0, 0};
    bool hip_set[2] = {false, false}, knee_set[2] = {false, false};
    if (g->phase == 1) {  // lift and swing the moving leg
      hip_target[g->moving] = 1.1, hip_set[g->moving] = true;
      knee_target[g->moving] = -0.6, knee_set[g->moving] = true;
      g->knee_support += 0.03;
      if (s[2] > kSpeed) g->knee_support += 0.03;
      g->knee_support = std::min(g->knee_support, kSupportKnee);
      knee_target[g->supporting] = g->knee_support, knee_set[g->supporting] = true;
      if (s[sb] < 0.10) g->phase = 2;
    }
    if (g->phase == 2) {  // put it down
      hip_target[g->moving] = 0.1, hip_set[g->moving] = true;
      knee_target[g->moving] = kSupportKnee, knee_set[g->moving] = true;
      knee_target[g->supporting] = g->knee_support, knee_set[g->supporting] = true;
      if (s[mb + 4] != 0) {
        g->phase = 3;
        g->knee_support = std::min(static_cast<double>(s[mb + 2]), kSupportKnee);
      }
    }
    if (g->phase == 3) {  // push off, then swap legs
      knee_target[g->moving] = g->knee_support, knee_set[g->moving] = true;
      knee_target[g->supporting] = 1.0, knee_set[g->supporting] = true;
      if (s[sb + 2] > 0.88 || s[2] > 1.2 * kSpeed) {
        g->phase = 1;
        g->moving = 1 - g->moving;
        g->supporting = 1 - g->moving;
      }
    }
    double hip[2] = {0, 0}, knee[2] = {0, 0};
    for (int leg = 0; leg < 2; ++leg) {
      const int o = 4 + 5 * leg;
      if (hip_set[leg] && hip_target[leg] != 0) hip[leg] = 0.9 * (hip_target[leg] - s[o]) - 0.25 * s[o + 1];
      if (knee_set[leg] && knee_target[leg] != 0) knee[leg] = 4.0 * (knee_target[leg] - s[o + 2]) - 0.25 * s[o + 3];
      hip[leg] -= 0.9 * (0 - s[0]) - 1.5 * s[1];  // keep the hull level
      knee[leg] -= 15.0 * s[3];                   // and its height steady
    }
    const double out[4] = {hip[0], knee[0], hip[1], knee[1]};
    for (int j = 0; j < 4; ++j) a[j] = static_cast<float>(std::clamp(0.5 * out[j], -1.0, 1.0));
  };
}

}  // namespace

TEST_CASE("BipedalWalker specs match Gymnasium", "[box2d][walker][spec]") {
  auto env = make_env("BipedalWalker-v3");
  CHECK(env->spec().observation_space.size() == 24);
  CHECK(env->spec().action_space.describe() == "Box(-1.0, 1.0, (4,), float32)");
  CHECK(env->spec().max_episode_steps == 1600);
  CHECK(make_env("BipedalWalkerHardcore-v3")->spec().max_episode_steps == 2000);
}

TEST_CASE("BipedalWalker starts standing on flat ground, lidar below", "[box2d][walker]") {
  BipedalWalker env(BipedalWalker::Params{});
  std::vector<float> obs(24);
  env.reset(1, obs.data());
  CHECK(std::abs(obs[0]) < 0.05);          // hull level
  CHECK(obs[8] + obs[13] >= 1.0f);         // at least one lower leg on the ground after settling
  CHECK(obs[14] > 0.0f);                   // the straight-down ray hits the ground
  CHECK(obs[14] < 1.0f);
  CHECK(env.hull_x() == Approx(14.0 / 30 * 20 / 2).margin(0.1));
}

TEST_CASE("BipedalWalker episode statistics agree with Gymnasium's", "[box2d][walker][fidelity]") {
  // Gymnasium: -100.4 +- 20.1, length 653 over 50 episodes.
  SECTION("random policy") {
    const EpisodeStats s = run("BipedalWalker-v3", 50, random_policy());
    INFO("mean " << s.mean_return << " std " << s.std_return << " length " << s.mean_length << " +- " << s.std_length);
    CHECK(std::abs(s.mean_return - -100.4) < three_standard_errors(s, 20.1, 50));
    // Random episodes either fall within a few hundred steps or kneel until the time limit, so
    // lengths spread widely; the reference gives no spread, so take ours for both.
    CHECK(std::abs(s.mean_length - 653) < 3 * std::sqrt(2.0 / 50) * s.std_length);
  }
  // Gymnasium, measured on pybox2d for the port: -109.1 +- 13.9 over 200 episodes.
  SECTION("hardcore random policy") {
    const EpisodeStats s = run("BipedalWalkerHardcore-v3", 50, random_policy());
    INFO("mean " << s.mean_return << " std " << s.std_return);
    CHECK(std::abs(s.mean_return - -109.1) < three_standard_errors(s, 13.9, 200));
  }
  // Gymnasium's heuristic: 178.6 +- 138.3 over 20 episodes.
  SECTION("walking gait") {
    const EpisodeStats s = run("BipedalWalker-v3", 20, walking_policy);
    INFO("mean " << s.mean_return << " std " << s.std_return << " max " << s.max_return);
    CHECK(std::abs(s.mean_return - 178.6) < three_standard_errors(s, 138.3, 20));
    CHECK(s.max_return > 250);  // it walks the whole course at least once
  }
}

TEST_CASE(
    "BipedalWalker physical options at Gymnasium's values give the same trajectory as no options",
    "[box2d][walker][options][physics]") {
  using rlforge::testing::first_difference;
  using rlforge::testing::seeded_rollout;
  for (const std::string id : {"BipedalWalker-v3", "BipedalWalkerHardcore-v3"}) {
    INFO(id);
    auto plain = make_env(id);
    auto given =
        make_env(id, {{"motor_torque", 80.0}, {"hull_density", 5.0}, {"terrain_roughness", 1.0}});
    const auto a = seeded_rollout(*plain, 9, 1200);
    const auto b = seeded_rollout(*given, 9, 1200);
    CHECK(first_difference(a.observations, b.observations) == -1);
    CHECK(first_difference(a.rewards, b.rewards) == -1);
    CHECK(first_difference(a.flags, b.flags) == -1);
  }
}

TEST_CASE("BipedalWalker terrain_roughness scales the grass's bumps and keeps the draws",
          "[box2d][walker][options][physics]") {
  auto terrain_after_reset = [](const std::string& id, double roughness,
                                std::string* snapshot = nullptr) {
    auto env = make_env(id, {{"terrain_roughness", roughness}});
    std::vector<float> obs(24);
    env->reset(4, obs.data());
    if (snapshot != nullptr) *snapshot = env->snapshot();
    return dynamic_cast<BipedalWalker&>(env->unwrapped()).terrain_y();
  };
  auto spread = [](const std::vector<double>& y) {
    const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
    return *hi - *lo;
  };
  std::string flat_snapshot, normal_snapshot, rough_snapshot;
  const auto flat = terrain_after_reset("BipedalWalker-v3", 0.0, &flat_snapshot);
  const auto normal = terrain_after_reset("BipedalWalker-v3", 1.0, &normal_snapshot);
  const auto rough = terrain_after_reset("BipedalWalker-v3", 2.0, &rough_snapshot);
  // 0: flat grass at the start height everywhere.
  REQUIRE(flat.size() == 200);
  CHECK(spread(flat) == 0.0);
  CHECK(flat[0] == Approx(400.0 / 30 / 4));
  CHECK(spread(normal) > 0.1);
  CHECK(spread(rough) > spread(normal));
  // Every roughness draws the same numbers: the generators stand at the same place after reset
  // (a snapshot begins with the generator's state; nothing else in it differs after a reset).
  CHECK(flat_snapshot == normal_snapshot);
  CHECK(rough_snapshot == normal_snapshot);
  // Hardcore too: its obstacles are drawn after the grass's bumps.
  std::string hardcore_flat, hardcore_normal;
  const auto hardcore = terrain_after_reset("BipedalWalkerHardcore-v3", 0.0, &hardcore_flat);
  terrain_after_reset("BipedalWalkerHardcore-v3", 1.0, &hardcore_normal);
  CHECK(hardcore_flat == hardcore_normal);
  CHECK(spread(hardcore) > 0.0);  // stairs and pits remain
}

TEST_CASE("BipedalWalker motor_torque and hull_density change the dynamics the way physics says",
          "[box2d][walker][options][physics]") {
  SECTION("weaker motors turn the hip more slowly") {
    auto hip_speed = [](double torque) {  // three steps of the first hip at full command
      auto env = make_env("BipedalWalker-v3", {{"motor_torque", torque}});
      std::vector<float> obs(24);
      env->reset(5, obs.data());
      for (int i = 0; i < 3; ++i) env->step(std::vector<float>{1, 0, 0, 0}, obs.data());
      return obs[5];  // the hip's speed over its motor speed
    };
    const float none = hip_speed(0.0), weak = hip_speed(10.0), normal = hip_speed(80.0);
    CHECK(none < weak);
    CHECK(weak < normal);
    CHECK(normal == Approx(1.0).margin(0.01));  // 80 reaches the motor speed
  }
  SECTION("a denser hull: the same random push at reset moves it less") {
    auto push_speed = [](double density) {
      auto env = make_env("BipedalWalker-v3", {{"hull_density", density}});
      std::vector<float> obs(24);
      env->reset(5, obs.data());
      return std::abs(obs[2]);  // horizontal speed after the push and the settling step
    };
    const float light = push_speed(2.5), normal = push_speed(5.0), heavy = push_speed(10.0);
    CHECK(normal > 0);
    CHECK(heavy < normal);
    CHECK(normal < light);
  }
  SECTION("the reward's torque cost is of the command, whatever the motors") {
    auto first_reward = [](double torque) {
      auto env = make_env("BipedalWalker-v3", {{"motor_torque", torque}});
      std::vector<float> obs(24);
      env->reset(5, obs.data());
      return env->step(std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}, obs.data()).reward;
    };
    // No motors: the walker moves as it would with no command, so the reward is the shaping of
    // that motion minus 4 x 0.00035 x 80 x 0.5.
    auto env = make_env("BipedalWalker-v3", {{"motor_torque", 0.0}});
    std::vector<float> obs(24);
    env->reset(5, obs.data());
    const double idle = env->step(std::vector<float>{0, 0, 0, 0}, obs.data()).reward;
    CHECK(first_reward(0.0) == Approx(idle - 4 * 0.00035 * 80 * 0.5).epsilon(1e-9));
  }
}

TEST_CASE("BipedalWalker refuses physical options outside their range, naming the option",
          "[box2d][walker][options][errors]") {
  using rlforge::testing::error_of;
  for (const std::string id : {"BipedalWalker-v3", "BipedalWalkerHardcore-v3"}) {
    CHECK_THAT(error_of([&] {
                 make_env(id, {{"motor_torque", -80.0}});
               }),
               Catch::Contains(id + ": motor_torque must be >= 0") && Catch::Contains("got -80"));
    CHECK_THAT(error_of([&] {
                 make_env(id, {{"hull_density", 0.0}});
               }),
               Catch::Contains(id + ": hull_density must be > 0") && Catch::Contains("got 0"));
    CHECK_THAT(error_of([&] {
                 make_env(id, {{"terrain_roughness", -1.0}});
               }),
               Catch::Contains(id + ": terrain_roughness must be >= 0, got -1"));
  }
  CHECK_NOTHROW(make_env("BipedalWalker-v3", {{"motor_torque", 0.0}, {"terrain_roughness", 0.0}}));
}
