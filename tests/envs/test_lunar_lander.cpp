// LunarLander against Gymnasium's episode statistics (shared/reference/box2d-stats.md: Gymnasium
// 1.4 on Box2D 2.3, seeds 10000 + episode) and its mechanics. A seed starts Gymnasium's episode
// (test_gymnasium_parity.cpp), but Box2D 2.4 gives other single trajectories after a few dozen
// steps, so the tests compare means: each tolerance is three standard errors
// of the difference of two independent means (the reference's std over its episodes, ours over
// ours), unless said otherwise.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "rlforge/envs/rng.h"
#include "rlforge/envs/box2d/lunar_lander.h"
#include "rlforge/envs/registry.h"

#include "env_test_helpers.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

using testing::EpisodeStats;
using testing::ObservationPolicy;
using testing::three_standard_errors;

EpisodeStats run(const std::string& id, const Options& options, int episodes, const ObservationPolicy& policy) {
  auto env = make_env(id, options);
  return testing::play_episodes(*env, episodes, 10000, [&] { return policy; });
}

// A PD controller on the observation: lean toward the pad in proportion to the horizontal offset
// and speed, hold an altitude target proportional to the horizontal distance, fire the engine
// whose error is larger, and let go once a leg touches (box2d-stats.md describes the same
// structure for Gymnasium's heuristic; these gains are the ones it reports).
struct Command {
  double hover, turn;
};
Command pd_command(const std::vector<float>& s) {
  const double angle_target = std::clamp(s[0] * 0.5 + s[2] * 1.0, -0.4, 0.4);
  const double hover_target = 0.55 * std::abs(s[0]);
  double turn = (angle_target - s[4]) * 0.5 - s[5] * 1.0;
  double hover = (hover_target - s[1]) * 0.5 - s[3] * 0.5;
  if (s[6] != 0 || s[7] != 0) {
    turn = 0;
    hover = -s[3] * 0.5;
  }
  return {hover, turn};
}

void pd_discrete(const std::vector<float>& s, std::vector<float>& a) {
  const Command c = pd_command(s);
  a[0] = 0;
  if (c.hover > std::abs(c.turn) && c.hover > 0.05) {
    a[0] = 2;
  } else if (c.turn < -0.05) {
    a[0] = 3;
  } else if (c.turn > 0.05) {
    a[0] = 1;
  }
}

void pd_continuous(const std::vector<float>& s, std::vector<float>& a) {
  const Command c = pd_command(s);
  a[0] = static_cast<float>(std::clamp(c.hover * 20 - 1, -1.0, 1.0));
  a[1] = static_cast<float>(std::clamp(-c.turn * 20, -1.0, 1.0));
}

}  // namespace

TEST_CASE("LunarLander specs match Gymnasium", "[box2d][lunar][spec]") {
  auto discrete = make_env("LunarLander-v3");
  CHECK(discrete->spec().action_space.describe() == "Discrete(4)");
  CHECK(discrete->spec().observation_space.shape() == std::vector<int64_t>{8});
  CHECK(discrete->spec().max_episode_steps == 1000);
  CHECK(discrete->spec().reward_threshold == 200.0);
  auto continuous = make_env("LunarLanderContinuous-v3");
  CHECK(continuous->spec().action_space.is_box());
  CHECK(continuous->spec().action_space.size() == 2);
  // The option is the same env either way.
  CHECK(make_env("LunarLander-v3", {{"continuous", true}})->spec().action_space.is_box());
}

TEST_CASE("LunarLander rejects impossible options with the value named", "[box2d][lunar][errors]") {
  CHECK_THAT(error_of([] { make_env("LunarLander-v3", {{"gravity", -13.0}}); }),
             Catch::Contains("gravity must be in (-12, 0), got -13"));
  CHECK_THAT(error_of([] { make_env("LunarLander-v3", {{"gravity", 1.0}}); }), Catch::Contains("gravity"));
  CHECK_THAT(error_of([] { make_env("LunarLander-v3", {{"wind_power", -1.0}}); }),
             Catch::Contains("wind_power must be >= 0"));
  auto env = make_env("LunarLander-v3");
  std::vector<float> obs(8);
  env->reset(1, obs.data());
  CHECK_THAT(error_of([&] { env->step(int64_t{4}, obs.data()); }), Catch::Contains("Discrete(4)"));
}

TEST_CASE("LunarLander starts high above the pad with its legs settled", "[box2d][lunar]") {
  LunarLander env(LunarLander::Params{});
  std::vector<float> obs(8);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    env.reset(seed, obs.data());
    // Gymnasium: y about 1.41 after the reset's settling step, the random push only starts
    // the motion, legs in the air.
    CHECK(obs[1] == Approx(1.41).margin(0.03));
    CHECK(std::abs(obs[0]) < 0.02);
    CHECK(obs[6] == 0.0f);
    CHECK(obs[7] == 0.0f);
    // The pad is flat between the flags, at 0.99 of its nominal height.
    const auto& t = env.terrain();
    for (int i = 4; i <= 6; ++i) CHECK(t[i][1] == Approx(0.99 * env.helipad_y()));
  }
  // The right leg is legs_[0]: it sits at larger x than the lander.
  const auto legs = env.leg_poses();
  CHECK(legs[0].x > env.lander_pose().x);
  CHECK(legs[1].x < env.lander_pose().x);
}

TEST_CASE("LunarLander's engines push the way Gymnasium's do", "[box2d][lunar]") {
  LunarLander env(LunarLander::Params{});
  std::vector<float> a(8), b(8);
  env.reset(3, a.data());
  const std::string start = env.snapshot();
  for (int i = 0; i < 10; ++i) env.step(int64_t{0}, a.data());
  env.restore(start);
  for (int i = 0; i < 10; ++i) env.step(int64_t{2}, b.data());
  CHECK(b[3] > a[3] + 0.1);  // the main engine slows the fall
  env.restore(start);
  for (int i = 0; i < 10; ++i) env.step(int64_t{3}, b.data());
  CHECK(b[2] > a[2]);  // the right engine pushes toward +x
  CHECK(b[5] < a[5]);  // and turns clockwise
  env.restore(start);
  for (int i = 0; i < 10; ++i) env.step(int64_t{1}, b.data());
  CHECK(b[2] < a[2]);
  CHECK(b[5] > a[5]);
  // Firing costs fuel: 0.3 per main-engine step, 0.03 per side-engine step, on top of shaping.
  env.restore(start);
  const double with_engine = env.step(int64_t{2}, b.data()).reward;
  CHECK(with_engine < 0.5);  // shaping changes little in one step; the 0.3 is a real cost
}

TEST_CASE("LunarLander episode statistics agree with Gymnasium's", "[box2d][lunar][fidelity]") {
  SECTION("uniform random policy, 200 episodes (Gymnasium: -185.7 +- 118.6, length 97.7)") {
    Rng rng(7);
    const EpisodeStats s = run("LunarLander-v3", {}, 200, [&rng](const std::vector<float>&, std::vector<float>& a) {
      a[0] = static_cast<float>(rng.below(4));
    });
    INFO("mean " << s.mean_return << " std " << s.std_return << " length " << s.mean_length);
    CHECK(std::abs(s.mean_return - -185.7) < three_standard_errors(s, 118.6, 200));
    CHECK(s.std_return == Approx(118.6).epsilon(0.25));
    // Lengths: the reference gives no spread; 15% covers three standard errors of ours.
    CHECK(s.mean_length == Approx(97.7).epsilon(0.15));
  }
  SECTION("no-op policy, 100 episodes (Gymnasium: -131.5 +- 44.0, length 69.2)") {
    const EpisodeStats s = run("LunarLander-v3", {}, 100, [](const std::vector<float>&, std::vector<float>& a) {
      a[0] = 0;
    });
    INFO("mean " << s.mean_return << " std " << s.std_return << " length " << s.mean_length);
    CHECK(std::abs(s.mean_return - -131.5) < three_standard_errors(s, 44.0, 100));
    CHECK(s.mean_length == Approx(69.2).epsilon(0.1));
  }
  SECTION("PD controller, discrete, 100 episodes (Gymnasium's heuristic: 255.4 +- 74.3)") {
    const EpisodeStats s = run("LunarLander-v3", {}, 100, pd_discrete);
    INFO("mean " << s.mean_return << " std " << s.std_return << " landed " << s.ended_with_bonus);
    CHECK(s.mean_return > 200);
    CHECK(std::abs(s.mean_return - 255.4) < three_standard_errors(s, 74.3, 100));
    CHECK(s.ended_with_bonus >= 85);
  }
  SECTION("PD controller, continuous, 100 episodes (Gymnasium's heuristic: 285.0 +- 16.8)") {
    const EpisodeStats s = run("LunarLanderContinuous-v3", {}, 100, pd_continuous);
    INFO("mean " << s.mean_return << " std " << s.std_return << " min " << s.min_return);
    CHECK(s.mean_return > 250);
    CHECK(std::abs(s.mean_return - 285.0) < three_standard_errors(s, 16.8, 100));
  }
  SECTION("PD controller with wind, 50 episodes (Gymnasium's heuristic: 101.4 +- 166.0)") {
    const EpisodeStats s = run("LunarLander-v3", {{"enable_wind", true}}, 50, pd_discrete);
    INFO("mean " << s.mean_return << " std " << s.std_return);
    CHECK(std::abs(s.mean_return - 101.4) < three_standard_errors(s, 166.0, 50));
  }
}

TEST_CASE("LunarLander engine powers at Gymnasium's values give the same trajectory as no options",
          "[box2d][lunar][options][physics]") {
  using rlforge::testing::first_difference;
  using rlforge::testing::seeded_rollout;
  for (const std::string id : {"LunarLander-v3", "LunarLanderContinuous-v3"}) {
    INFO(id);
    auto plain = make_env(id);
    auto given = make_env(id, {{"main_engine_power", 13.0}, {"side_engine_power", 0.6}});
    const auto a = seeded_rollout(*plain, 5, 1500);
    const auto b = seeded_rollout(*given, 5, 1500);
    CHECK(first_difference(a.observations, b.observations) == -1);
    CHECK(first_difference(a.rewards, b.rewards) == -1);
    CHECK(first_difference(a.flags, b.flags) == -1);
  }
}

TEST_CASE("LunarLander engine powers push harder or not at all",
          "[box2d][lunar][options][physics]") {
  // Ten steps of one engine from the same start (seed 3), for each power.
  auto after = [](const Options& options, int64_t action) {
    auto env = make_env("LunarLander-v3", options);
    std::vector<float> obs(8);
    env->reset(3, obs.data());
    for (int i = 0; i < 10; ++i) env->step(action, obs.data());
    return obs;
  };
  const auto coasting = after({}, 0);
  SECTION("more main engine power: more upward velocity after firing") {
    const auto weak = after({{"main_engine_power", 6.5}}, 2), normal = after({}, 2),
               strong = after({{"main_engine_power", 26.0}}, 2);
    CHECK(coasting[3] < weak[3]);
    CHECK(weak[3] < normal[3]);
    CHECK(normal[3] < strong[3]);
    CHECK(strong[3] > 0);  // twice the power lifts the lander
    // A dead main engine: firing it moves nothing.
    CHECK(after({{"main_engine_power", 0.0}}, 2) == coasting);
  }
  SECTION("more side engine power: a faster turn") {
    const auto weak = after({{"side_engine_power", 0.3}}, 1), normal = after({}, 1),
               strong = after({{"side_engine_power", 1.2}}, 1);
    CHECK(coasting[5] < weak[5]);
    CHECK(weak[5] < normal[5]);
    CHECK(normal[5] < strong[5]);
    CHECK(after({{"side_engine_power", 0.0}}, 1) == coasting);
  }
  SECTION("the fuel cost is of the throttle, whatever the power") {
    auto first_reward = [](const Options& options) {
      auto env = make_env("LunarLander-v3", options);
      std::vector<float> obs(8);
      env->reset(3, obs.data());
      env->step(int64_t{0}, obs.data());  // the first step only sets the shaping's reference
      return env->step(int64_t{2}, obs.data()).reward;
    };
    // With a dead engine the step moves as coasting does, so its reward is coasting's minus 0.3.
    auto coast_reward = [] {
      auto env = make_env("LunarLander-v3");
      std::vector<float> obs(8);
      env->reset(3, obs.data());
      env->step(int64_t{0}, obs.data());
      return env->step(int64_t{0}, obs.data()).reward;
    };
    CHECK(first_reward({{"main_engine_power", 0.0}}) ==
          Approx(coast_reward() - 0.3).epsilon(1e-12));
  }
}

TEST_CASE("LunarLander refuses negative engine powers, naming the option",
          "[box2d][lunar][options][errors]") {
  for (const std::string id : {"LunarLander-v3", "LunarLanderContinuous-v3"}) {
    CHECK_THAT(error_of([&] {
                 make_env(id, {{"main_engine_power", -13.0}});
               }),
               Catch::Contains(id + ": main_engine_power must be >= 0, got -13"));
    CHECK_THAT(error_of([&] {
                 make_env(id, {{"side_engine_power", -0.6}});
               }),
               Catch::Contains(id + ": side_engine_power must be >= 0, got -0.6"));
  }
  CHECK_THAT(error_of([] {
               make_env("LunarLander-v3", {{"main_engine_power", std::string("strong")}});
             }),
             Catch::Contains("option 'main_engine_power' expects a number"));
}
