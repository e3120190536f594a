// CarRacing against Gymnasium's episode statistics (shared/reference/box2d-stats.md: Gymnasium
// 1.4 on Box2D 2.3, seeds 10000 + episode) and its rules: pixels, tile rewards, lap and
// playfield termination, actions. A seed gives Gymnasium's track (test_gymnasium_parity.cpp), but
// Box2D 2.4 drives the car otherwise than Gymnasium's 2.3, so statistics are compared, not
// trajectories.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "rlforge/envs/rng.h"
#include "rlforge/envs/box2d/car_racing.h"
#include "rlforge/envs/registry.h"

#include "env_test_helpers.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

using Frame = std::vector<uint8_t>;
constexpr size_t kFrameBytes = 96 * 96 * 3;

CarRacing& car_of(Env& env) { return dynamic_cast<CarRacing&>(env.unwrapped()); }

// Steering toward a point a few tiles ahead on the centre line (pure pursuit), holding a speed:
// drives whole laps, to test what happens at the end of one.
std::vector<float> follow_track(const CarRacing& car, size_t& nearest, double speed) {
  const auto points = car.track_points();
  const size_t n = points.size();
  const CarRacing::Pose p = car.car_pose();
  double best = 1e18;
  size_t best_i = nearest;
  for (size_t k = 0; k < 25; ++k) {
    const size_t j = (nearest + n - 5 + k) % n;
    const double d = std::hypot(points[j][0] - p.x, points[j][1] - p.y);
    if (d < best) {
      best = d;
      best_i = j;
    }
  }
  nearest = best_i;
  const auto& target = points[(nearest + 4) % n];
  const double hx = -std::sin(p.angle), hy = std::cos(p.angle);  // the car's forward direction
  const double dx = target[0] - p.x, dy = target[1] - p.y;
  const double left = std::atan2(hx * dy - hy * dx, hx * dx + hy * dy);  // > 0: target to the left
  return {static_cast<float>(std::clamp(-2.0 * left, -1.0, 1.0)), p.speed < speed ? 0.3f : 0.0f,
          p.speed > speed + 5 ? 0.3f : 0.0f};
}

}  // namespace

TEST_CASE("CarRacing spaces follow Gymnasium", "[box2d][car_racing]") {
  auto env = make_env("CarRacing-v3");
  const EnvSpec& spec = env->spec();
  CHECK(spec.observation_space.shape() == std::vector<int64_t>{96, 96, 3});
  CHECK(spec.observation_space.dtype() == DType::UInt8);
  CHECK(spec.observation_space.byte_size() == kFrameBytes);
  CHECK(spec.action_space.is_box());
  CHECK(spec.action_space.low() == std::vector<float>{-1, 0, 0});
  CHECK(spec.action_space.high() == std::vector<float>{1, 1, 1});
  CHECK(spec.max_episode_steps == 1000);
  CHECK(spec.reward_threshold == 900.0);
  auto discrete = make_env("CarRacing-v3", {{"continuous", false}});
  CHECK(discrete->spec().action_space.describe() == "Discrete(5)");
  CHECK(discrete->id() == "CarRacing-v3");
}

TEST_CASE("CarRacing frames show road, grass and car", "[box2d][car_racing]") {
  auto env = make_env("CarRacing-v3");
  Frame obs(kFrameBytes);
  env->reset(3, obs.data());
  for (int i = 0; i < 60; ++i) env->step(std::vector<float>{0, 0.2f, 0}, obs.data());
  auto pixel = [&](int row, int col) {
    const uint8_t* p = &obs[(static_cast<size_t>(row) * 96 + col) * 3];
    return std::array<int, 3>{p[0], p[1], p[2]};
  };
  std::set<std::array<int, 3>> colours;
  for (int r = 0; r < 96; ++r) {
    for (int c = 0; c < 96; ++c) colours.insert(pixel(r, c));
  }
  CHECK(colours.size() >= 5);
  CHECK(colours.count({102, 102, 102}) == 1);  // visited road
  CHECK(colours.count({102, 204, 102}) == 1);  // background
  CHECK(colours.count({102, 230, 102}) == 1);  // grass patches
  CHECK(colours.count({204, 0, 0}) == 1);      // the car's hull
  // The car sits at 3/4 of the height, centred (Gymnasium's camera), on the road.
  CHECK(pixel(72, 48) == std::array<int, 3>{204, 0, 0});
  // The bottom bar: 5/40 of the height (rows 84 to 95), black where no indicator is drawn.
  CHECK(pixel(95, 95) == std::array<int, 3>{0, 0, 0});
  CHECK(pixel(83, 48) != std::array<int, 3>{0, 0, 0});  // just above it: road
}

TEST_CASE("CarRacing resets the same way for a seed", "[box2d][car_racing]") {
  auto a = make_env("CarRacing-v3");
  auto b = make_env("CarRacing-v3");
  Frame oa(kFrameBytes), ob(kFrameBytes);
  a->reset(42, oa.data());
  b->reset(42, ob.data());
  CHECK(oa == ob);
  CHECK(car_of(*a).track_points() == car_of(*b).track_points());
  const std::vector<float> action{0.3f, 0.5f, 0.0f};
  for (int i = 0; i < 30; ++i) {
    const StepResult ra = a->step(action, oa.data());
    const StepResult rb = b->step(action, ob.data());
    REQUIRE(ra.reward == rb.reward);
  }
  CHECK(oa == ob);
  b->reset(43, ob.data());
  CHECK(car_of(*a).track_points() != car_of(*b).track_points());
  // Tracks have Gymnasium's length: about 1000 m in 3.5 m tiles.
  for (uint64_t seed = 0; seed < 10; ++seed) {
    a->reset(seed, oa.data());
    CHECK(car_of(*a).track_tiles() > 200);
    CHECK(car_of(*a).track_tiles() < 400);
    // The car starts on tile 1 with its rear wheels on tile 0 (which is why, as in Gymnasium,
    // lap_complete_percent never ends a lap early).
    CHECK(car_of(*a).tile_visited(0));
    CHECK(car_of(*a).tile_visited(1));
  }
}

TEST_CASE("CarRacing random returns agree with Gymnasium", "[box2d][car_racing][fidelity]") {
  // Gymnasium: -35.1 +- 6.2 over 5 episodes of 1000 steps. 10 episodes of ours take about 1.5 s;
  // the tolerance is three standard errors of the difference of the two means (the reference's
  // 5 episodes dominate it: about 9 points). Returns do not depend on how the observation is
  // drawn, so the fast drawing keeps this test short (Gymnasium's is 40x slower).
  auto env = make_env("CarRacing-v3", {{"observation_render", std::string("fast")}});
  Rng rng(7);
  const auto s = testing::play_episodes(*env, 10, 10000, [&rng] {
    return [&rng](const std::vector<float>&, std::vector<float>& a) {
      a = {static_cast<float>(rng.uniform(-1, 1)), static_cast<float>(rng.uniform()),
           static_cast<float>(rng.uniform())};
    };
  });
  INFO("mean " << s.mean_return << " std " << s.std_return << " min " << s.min_return);
  CHECK(std::abs(s.mean_return - -35.1) < testing::three_standard_errors(s, 6.2, 5));
  // Five reference episodes fix the spread only loosely (a 95% interval of about 0.6x to 2.9x).
  CHECK(s.std_return > 6.2 * 0.4);
  CHECK(s.std_return < 6.2 * 3);
  CHECK(s.mean_length == 1000.0);
  CHECK(s.std_length == 0.0);
}

TEST_CASE("CarRacing pays 1000/N per new tile", "[box2d][car_racing]") {
  CarRacing car(CarRacing::Params{});
  Frame obs(kFrameBytes);
  car.reset(5, obs.data());
  const double tile = 1000.0 / car.track_tiles();
  // The reset's settling step already touches the tiles under the car; their reward comes with
  // the first step, as in Gymnasium.
  const int at_start = car.tiles_visited();
  CHECK(at_start >= 1);
  double total = 0;
  for (int i = 0; i < 100; ++i) {
    const StepResult r = car.step(std::vector<float>{0, 0.5f, 0}, obs.data());
    CHECK_FALSE(r.terminated);
    // Each step: -0.1 plus a whole number of tiles.
    const double tiles = (r.reward + 0.1) / tile;
    CHECK(tiles == Approx(std::round(tiles)).margin(1e-9));
    total += r.reward;
  }
  CHECK(car.tiles_visited() > at_start + 10);  // gas, straight: along the first straight
  CHECK(total == Approx(car.tiles_visited() * tile - 0.1 * 100).margin(1e-9));
  CHECK(total > 0);
}

TEST_CASE("CarRacing ends a lap when all tiles are visited", "[box2d][car_racing]") {
  CarRacing car(CarRacing::Params{});
  Frame obs(kFrameBytes);
  car.reset(1, obs.data());
  size_t nearest = 0;
  double total = 0;
  int steps = 0;
  StepResult r;
  do {
    r = car.step(follow_track(car, nearest, 35), obs.data());
    total += r.reward;
    ++steps;
  } while (!r.terminated && steps < 3000);
  CHECK(r.terminated);
  CHECK(car.tiles_visited() == car.track_tiles());
  CHECK(total == Approx(1000 - 0.1 * steps).margin(1e-6));
  // As in Gymnasium (issue #1269), tile 0 is touched during reset, so lap_complete_percent can
  // never end the lap early: every tile must be visited.
}

TEST_CASE("CarRacing ends with -100 off the playfield", "[box2d][car_racing]") {
  CarRacing car(CarRacing::Params{});
  Frame obs(kFrameBytes);
  car.reset(2, obs.data());
  const double heading = car.car_pose().angle;
  StepResult r;
  int steps = 0;
  do {  // straight ahead off the track, holding the heading, at 40 m/s
    const CarRacing::Pose p = car.car_pose();
    const auto steer = static_cast<float>(std::clamp(-3.0 * (heading - p.angle), -1.0, 1.0));
    r = car.step(std::vector<float>{steer, p.speed < 40 ? 0.2f : 0.0f, 0}, obs.data());
    ++steps;
  } while (!r.terminated && steps < 3000);
  REQUIRE(r.terminated);
  CHECK(r.reward == -100.0);
  const CarRacing::Pose p = car.car_pose();
  CHECK(std::max(std::abs(p.x), std::abs(p.y)) > CarRacing::kPlayfield);
  CHECK(car.tiles_visited() < car.track_tiles());
}

TEST_CASE("CarRacing discrete actions map as Gymnasium's", "[box2d][car_racing]") {
  // Gymnasium: 0 nothing, 1 steer right 0.6, 2 steer left 0.6, 3 gas 0.2, 4 brake 0.8; the same
  // as these continuous actions (steer -1 is full left).
  const std::vector<std::vector<float>> same{{0, 0, 0}, {0.6f, 0, 0}, {-0.6f, 0, 0}, {0, 0.2f, 0}, {0, 0, 0.8f}};
  auto discrete = make_env("CarRacing-v3", {{"continuous", false}});
  auto continuous = make_env("CarRacing-v3");
  Frame od(kFrameBytes), oc(kFrameBytes);
  for (int64_t a = 0; a < 5; ++a) {
    INFO("action " << a);
    discrete->reset(9, od.data());
    continuous->reset(9, oc.data());
    // Gas first so that steering and braking have something to act on.
    for (int i = 0; i < 30; ++i) {
      discrete->step(int64_t{3}, od.data());
      continuous->step(same[3], oc.data());
    }
    for (int i = 0; i < 20; ++i) {
      discrete->step(a, od.data());
      continuous->step(same[static_cast<size_t>(a)], oc.data());
    }
    // 0.6f and 0.2f are not exactly 0.6 and 0.2: close, not equal.
    const CarRacing::Pose pd = car_of(*discrete).car_pose(), pc = car_of(*continuous).car_pose();
    CHECK(pd.x == Approx(pc.x).margin(1e-3));
    CHECK(pd.y == Approx(pc.y).margin(1e-3));
    CHECK(pd.angle == Approx(pc.angle).margin(1e-4));
    CHECK(pd.speed == Approx(pc.speed).margin(1e-3));
  }
  // And what they do: right turns clockwise (the angle falls), left anticlockwise, brake slows.
  auto after = [&](int64_t a) {
    discrete->reset(9, od.data());
    for (int i = 0; i < 30; ++i) discrete->step(int64_t{3}, od.data());
    for (int i = 0; i < 20; ++i) discrete->step(a, od.data());
    return car_of(*discrete).car_pose();
  };
  const CarRacing::Pose idle = after(0), right = after(1), left = after(2), gas = after(3), brake = after(4);
  CHECK(right.angle < idle.angle - 0.05);
  CHECK(left.angle > idle.angle + 0.05);
  CHECK(gas.speed > idle.speed + 1);
  CHECK(brake.speed < idle.speed - 1);
}

TEST_CASE("CarRacing rejects bad actions and options", "[box2d][car_racing][errors]") {
  auto env = make_env("CarRacing-v3");
  Frame obs(kFrameBytes);
  env->reset(1, obs.data());
  CHECK_THAT(error_of([&] { env->step(std::vector<float>{0, std::nanf(""), 0}, obs.data()); }),
             Catch::Contains("non-finite"));
  CHECK_THAT(error_of([&] { env->step(std::vector<float>{0, 1}, obs.data()); }),
             Catch::Contains("does not fit the action space"));
  CHECK_THAT(error_of([&] { env->step(int64_t{1}, obs.data()); }), Catch::Contains("does not fit"));
  auto discrete = make_env("CarRacing-v3", {{"continuous", false}});
  discrete->reset(1, obs.data());
  CHECK_THAT(error_of([&] { discrete->step(int64_t{5}, obs.data()); }), Catch::Contains("Discrete(5)"));
  CHECK_THAT(error_of([&] { discrete->step(int64_t{-1}, obs.data()); }), Catch::Contains("Discrete(5)"));
  // Out-of-bounds values act as the bounds (as in Gymnasium, where they change nothing more).
  auto a = make_env("CarRacing-v3");
  auto b = make_env("CarRacing-v3");
  Frame ob(kFrameBytes);
  a->reset(4, obs.data());
  b->reset(4, ob.data());
  for (int i = 0; i < 20; ++i) {
    a->step(std::vector<float>{-3, 2, -1}, obs.data());
    b->step(std::vector<float>{-1, 1, 0}, ob.data());
  }
  CHECK(obs == ob);

  for (const double bad : {0.0, -0.5, 1.5}) {
    CHECK_THAT(error_of([&] { make_env("CarRacing-v3", {{"lap_complete_percent", bad}}); }),
               Catch::Contains("lap_complete_percent must be in (0, 1], got"));
  }
  CHECK_NOTHROW(make_env("CarRacing-v3", {{"lap_complete_percent", 1.0}}));
  CHECK_THAT(error_of([] { make_env("CarRacing-v3", {{"lap_complete", 0.5}}); }), Catch::Contains("lap_complete_percent"));
}

TEST_CASE("CarRacing domain randomisation recolours", "[box2d][car_racing]") {
  auto env = make_env("CarRacing-v3", {{"domain_randomize", true}});
  Frame obs(kFrameBytes);
  env->reset(1, obs.data());
  const Color first = car_of(*env).road_color();
  env->reset(2, obs.data());
  const Color second = car_of(*env).road_color();
  CHECK((first.r != second.r || first.g != second.g || first.b != second.b));
  env->reset(1, obs.data());
  CHECK(car_of(*env).road_color().r == first.r);
  auto plain = make_env("CarRacing-v3");
  plain->reset(1, obs.data());
  CHECK(car_of(*plain).road_color().r == 102);
}

TEST_CASE("CarRacing snapshots continue exactly", "[box2d][car_racing]") {
  auto env = make_env("CarRacing-v3");
  Frame obs(kFrameBytes), again(kFrameBytes);
  env->reset(8, obs.data());
  for (int i = 0; i < 40; ++i) env->step(std::vector<float>{0.1f, 0.4f, 0}, obs.data());
  const std::string snap = env->snapshot();
  std::vector<double> rewards;
  for (int i = 0; i < 20; ++i) rewards.push_back(env->step(std::vector<float>{-0.5f, 0.2f, 0.1f}, obs.data()).reward);
  env->restore(snap);
  for (int i = 0; i < 20; ++i) {
    CHECK(env->step(std::vector<float>{-0.5f, 0.2f, 0.1f}, again.data()).reward == rewards[static_cast<size_t>(i)]);
  }
  CHECK(obs == again);
  CHECK_THROWS_WITH(car_of(*env).state(), Catch::Contains("does not expose"));
}

TEST_CASE("CarRacing car parameters at Gymnasium's values give the same trajectory as no options",
          "[box2d][car_racing][options][physics]") {
  using rlforge::testing::first_difference;
  using rlforge::testing::seeded_rollout;
  const Options gymnasium = {
      {"engine_power", 40000.0}, {"friction_limit", 400.0}, {"road_friction", 1.0}};
  // Drawn at 96x96 for 400 steps, and Gymnasium's way (1000x800 shrunk) for 40.
  for (const auto& [render, steps] :
       std::vector<std::pair<std::string, int>>{{"fast", 400}, {"gymnasium", 40}}) {
    INFO(render);
    Options given = gymnasium;
    given.set("observation_render", render);
    auto plain = make_env("CarRacing-v3", {{"observation_render", render}});
    auto with_options = make_env("CarRacing-v3", given);
    const auto a = seeded_rollout(*plain, 6, steps);
    const auto b = seeded_rollout(*with_options, 6, steps);
    CHECK(first_difference(a.observations, b.observations) == -1);
    CHECK(first_difference(a.rewards, b.rewards) == -1);
    CHECK(first_difference(a.flags, b.flags) == -1);
  }
}

TEST_CASE("CarRacing engine power and friction change the car the way physics says",
          "[box2d][car_racing][options][physics]") {
  // Full gas for 40 steps from the start of track 2; the car's speed and a rear wheel's spin.
  struct Run {
    double speed, rear_omega;
    std::vector<double> rewards;
  };
  auto full_gas = [](Options options) {
    options.set("observation_render", std::string("fast"));
    auto env = make_env("CarRacing-v3", options);
    Frame obs(kFrameBytes);
    env->reset(2, obs.data());
    Run run{};
    for (int i = 0; i < 40; ++i)
      run.rewards.push_back(env->step(std::vector<float>{0, 1, 0}, obs.data()).reward);
    run.speed = car_of(*env).car_pose().speed;
    run.rear_omega = car_of(*env).wheel_omegas()[2];
    return run;
  };
  const Run normal = full_gas({});
  CHECK(normal.speed > 10);
  SECTION("less engine power: slower") {
    const Run weak = full_gas({{"engine_power", 5000.0}});
    CHECK(weak.speed < normal.speed);
    CHECK(weak.rear_omega < normal.rear_omega);
    CHECK(full_gas({{"engine_power", 0.0}}).speed < 1e-3);  // no engine, no motion
  }
  SECTION("less grip: the wheels spin and the car gains less speed") {
    const Run slippery = full_gas({{"friction_limit", 100.0}}),
              grippy = full_gas({{"friction_limit", 1600.0}});
    CHECK(slippery.speed < normal.speed);
    CHECK(normal.speed < grippy.speed);
    CHECK(slippery.rear_omega > normal.rear_omega);
  }
  SECTION("road_friction: less grip on the road, never less than on grass (Gymnasium's max)") {
    const Run icy = full_gas({{"road_friction", 0.7}}), sticky = full_gas({{"road_friction", 2.0}});
    CHECK(icy.speed < normal.speed);
    CHECK(normal.speed < sticky.speed);
    const Run below_grass = full_gas({{"road_friction", 0.3}}),
              grass = full_gas({{"road_friction", 0.6}});
    CHECK(below_grass.speed == grass.speed);
    CHECK(below_grass.rewards == grass.rewards);
    CHECK(grass.speed < icy.speed);
  }
}

TEST_CASE("CarRacing refuses car parameters outside their range, naming the option",
          "[box2d][car_racing][options][errors]") {
  CHECK_THAT(error_of([] {
               make_env("CarRacing-v3", {{"engine_power", -1.0}});
             }),
             Catch::Contains("CarRacing-v3: engine_power must be >= 0, got -1"));
  CHECK_THAT(error_of([] {
               make_env("CarRacing-v3", {{"friction_limit", 0.0}});
             }),
             Catch::Contains("CarRacing-v3: friction_limit must be > 0, got 0"));
  CHECK_THAT(error_of([] {
               make_env("CarRacing-v3", {{"road_friction", -0.5}});
             }),
             Catch::Contains("CarRacing-v3: road_friction must be > 0, got -0.5"));
  CHECK_NOTHROW(make_env("CarRacing-v3",
                         {{"engine_power", 0.0}, {"observation_render", std::string("fast")}}));
}
