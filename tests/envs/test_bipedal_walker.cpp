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
