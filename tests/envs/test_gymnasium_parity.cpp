// The same seed gives Gymnasium's episode: after reset(seed) every built-in env holds the state
// Gymnasium 1.4 holds after `env.reset(seed=seed)` (tests/data/gymnasium-seeded/, recorded with
// NumPy 1.24 and Box2D 2.3 through pybox2d; its README gives each file's format).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "rlforge/envs/box2d/bipedal_walker.h"
#include "rlforge/envs/box2d/car_racing.h"
#include "rlforge/envs/box2d/lunar_lander.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/version.h"
#include "rlforge/render/image_files.h"

using namespace rlforge;

namespace {

using Fields = std::vector<std::string>;

// The rows of a reference file, split at commas, its header line skipped.
std::vector<Fields> read_rows(const std::string& name) {
  const std::string path = std::string(RLFORGE_TEST_DATA_DIR) + "/gymnasium-seeded/" + name;
  std::ifstream in(path);
  INFO(path);
  REQUIRE(in);
  std::vector<Fields> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    Fields fields;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) fields.push_back(field);
    rows.push_back(std::move(fields));
  }
  return rows;
}

std::vector<double> numbers(const Fields& fields, std::size_t from, std::size_t count) {
  REQUIRE(fields.size() >= from + count);
  std::vector<double> out;
  for (std::size_t i = from; i < from + count; ++i) out.push_back(std::stod(fields[i]));
  return out;
}

bool is_classic(const std::string& id) {
  return id.rfind("LunarLander", 0) != 0 && id.rfind("BipedalWalker", 0) != 0;
}

// |a - b| within `relative` of |b|, or within `relative` itself near zero.
bool close_relative(double a, double b, double relative) {
  return std::abs(a - b) <= relative * std::max(1.0, std::abs(b));
}

// Built on Gymnasium's Box2D 2.3 (-DRLFORGE_BOX2D=2.3) rather than Debian's 2.4.
bool gymnasiums_box2d() { return std::string(RLFORGE_BOX2D_VERSION) == "2.3"; }

// How far a Box2D env's first observation may be from Gymnasium's. Both resets end with one
// physics step. LunarLander's legs start outside their hinges' limits (joint angle 0, limits
// [0.4, 0.9] and [-0.9, -0.4]), and Box2D 2.4 pushes them in with another limit solver than
// Gymnasium's Box2D 2.3, so after that step the lander's velocities and angle differ slightly
// (angular velocity the most: up to 2.4e-4 over the 50 seeds) while its position agrees. On
// Box2D 2.3 every element agrees within 1e-5.
double box2d_tolerance(const std::string& id, std::size_t element) {
  if (!gymnasiums_box2d() && id.rfind("LunarLander", 0) == 0 && element >= 2 && element <= 5) {
    return element == 5 ? 5e-4 : 5e-5;
  }
  return 1e-5;
}

template <class EnvT>
EnvT& simulator(Env& env) {
  auto* sim = dynamic_cast<EnvT*>(&env.unwrapped());
  REQUIRE(sim != nullptr);
  return *sim;
}

}  // namespace

TEST_CASE("reset(seed) gives Gymnasium's first observation in every env with vector observations",
          "[envs][gymnasium][parity]") {
  const std::vector<Fields> rows = read_rows("reset_obs.csv");
  REQUIRE(rows.size() == 450);  // 9 envs x 50 seeds
  std::map<std::string, std::unique_ptr<Env>> envs;
  std::map<std::string, int> checked;
  std::map<std::string, double> worst;
  for (const Fields& row : rows) {
    const std::string& id = row[0];
    const auto seed = std::stoull(row[1]);
    auto& env = envs[id];
    if (!env) env = make_env(id);
    const std::size_t n = env->spec().observation_space.size();
    REQUIRE(row.size() == 2 + n);
    const std::vector<double> expected = numbers(row, 2, n);
    std::vector<float> obs(n);
    env->reset(seed, obs.data());
    INFO(id << ", seed " << seed);
    for (std::size_t i = 0; i < n; ++i) {
      INFO("element " << i << ": " << obs[i] << " against " << expected[i]);
      if (is_classic(id)) {
        // The file prints float32 values with 9 significant digits: they read back exactly.
        CHECK(obs[i] == static_cast<float>(expected[i]));
      } else {
        const double difference = std::abs(obs[i] - expected[i]);
        CHECK(difference <= box2d_tolerance(id, i));
        worst[id] = std::max(worst[id], difference);
      }
    }
    ++checked[id];
  }
  CHECK(checked.size() == 9);
  for (const auto& [id, count] : checked) CHECK(count == 50);
  // Measured: BipedalWalker within 1e-6; LunarLander's angular velocity up to 2.4e-4 on Box2D
  // 2.4, every element within 1e-5 on 2.3.
  std::ostringstream largest;
  for (const auto& [id, difference] : worst) largest << id << " " << difference << "; ";
  WARN("Box2D " RLFORGE_BOX2D_VERSION ", largest differences: " << largest.str());
  CHECK(worst.at("BipedalWalker-v3") <= 1e-5);
  CHECK(worst.at("LunarLander-v3") <= (gymnasiums_box2d() ? 1e-5 : 5e-4));
}

TEST_CASE("LunarLander's terrain after reset(seed) is Gymnasium's", "[envs][gymnasium][parity]") {
  const std::vector<Fields> rows = read_rows("lunarlander_terrain.csv");
  REQUIRE(rows.size() == 50);
  auto env = make_env("LunarLander-v3");
  auto& lander = simulator<LunarLander>(*env);
  std::vector<float> obs(8);
  for (const Fields& row : rows) {
    const auto seed = std::stoull(row[0]);
    INFO("seed " << seed);
    env->reset(seed, obs.data());
    CHECK(std::stod(row[1]) == lander.helipad_y());
    // The moon's edge fixtures: the floor from (0, 0) to (W, 0), then one edge between each pair
    // of neighbouring terrain points; Box2D keeps their vertices in float32.
    const auto& terrain = lander.terrain();
    std::vector<double> expected_edges{0, 0, 20, 0};
    for (std::size_t i = 0; i + 1 < terrain.size(); ++i) {
      for (const auto& p : {terrain[i], terrain[i + 1]}) {
        expected_edges.push_back(static_cast<float>(p[0]));
        expected_edges.push_back(static_cast<float>(p[1]));
      }
    }
    const std::vector<double> edges = numbers(row, 2, row.size() - 2);
    REQUIRE(edges.size() == expected_edges.size());
    for (std::size_t i = 0; i < edges.size(); ++i) {
      INFO("vertex value " << i);
      CHECK(close_relative(expected_edges[i], edges[i], 1e-9));
    }
  }
}

TEST_CASE("BipedalWalker's terrain after reset(seed) is Gymnasium's, normal and hardcore",
          "[envs][gymnasium][parity]") {
  const std::vector<Fields> rows = read_rows("bipedalwalker_terrain.csv");
  REQUIRE(rows.size() == 100);
  auto normal = make_env("BipedalWalker-v3");
  auto hardcore = make_env("BipedalWalkerHardcore-v3");
  std::vector<float> obs(24);
  int hardcore_rows = 0;
  for (const Fields& row : rows) {
    const auto seed = std::stoull(row[0]);
    const bool is_hardcore = row[1] == "1" || row[1] == "True";
    hardcore_rows += is_hardcore;
    const auto n = static_cast<std::size_t>(std::stoul(row[2]));
    INFO("seed " << seed << (is_hardcore ? ", hardcore" : ""));
    Env& env = is_hardcore ? *hardcore : *normal;
    env.reset(seed, obs.data());
    const auto& walker = simulator<BipedalWalker>(env);
    REQUIRE(walker.terrain_x().size() == n);
    REQUIRE(walker.terrain_y().size() == n);
    const std::vector<double> x = numbers(row, 3, n), y = numbers(row, 3 + n, n);
    std::size_t first_difference = n;
    for (std::size_t i = 0; i < n && first_difference == n; ++i) {
      if (!close_relative(walker.terrain_x()[i], x[i], 1e-9) || !close_relative(walker.terrain_y()[i], y[i], 1e-9)) {
        first_difference = i;
      }
    }
    CHECK(first_difference == n);
  }
  CHECK(hardcore_rows == 50);
}

TEST_CASE("CarRacing's track after reset(seed) is Gymnasium's", "[envs][gymnasium][parity]") {
  std::map<uint64_t, std::vector<std::vector<double>>> expected;
  for (const Fields& row : read_rows("carracing_track.csv")) {
    expected[std::stoull(row[0])].push_back(numbers(row, 2, 4));
  }
  REQUIRE(expected.size() == 10);
  auto env = make_env("CarRacing-v3");
  auto& car_racing = simulator<CarRacing>(*env);
  std::vector<uint8_t> obs(env->spec().observation_space.byte_size());
  for (const auto& [seed, points] : expected) {
    INFO("seed " << seed);
    env->reset(seed, obs.data());
    const std::vector<std::array<double, 4>> track = car_racing.track();
    REQUIRE(track.size() == points.size());
    std::size_t first_difference = track.size();
    for (std::size_t i = 0; i < track.size() && first_difference == track.size(); ++i) {
      for (std::size_t k = 0; k < 4; ++k) {
        if (!close_relative(track[i][k], points[i][k], 1e-9)) first_difference = i;
      }
    }
    CHECK(first_difference == track.size());
  }
}

namespace {

// Per seed, how many of the recorded steps agree (every observation element within `tolerance`)
// before the first that does not.
std::map<uint64_t, int> lunarlander_steps_in_agreement(double tolerance, std::map<uint64_t, int>* recorded = nullptr) {
  auto env = make_env("LunarLander-v3");
  std::map<uint64_t, int> agreeing;
  std::map<uint64_t, bool> parted;
  std::vector<float> obs(8);
  uint64_t current = UINT64_MAX;
  for (const Fields& row : read_rows("lunarlander_steps.csv")) {
    const auto seed = std::stoull(row[0]);
    if (seed != current) {
      current = seed;
      env->reset(seed, obs.data());
      agreeing[seed] = 0;
      parted[seed] = false;
    }
    if (recorded != nullptr) ++(*recorded)[seed];
    if (parted[seed] || env->needs_reset()) continue;
    const int64_t action = std::stoll(row[2]);
    const StepResult result = env->step(action, obs.data());
    const std::vector<double> expected = numbers(row, 3, 8);
    bool agree = true;
    for (std::size_t i = 0; i < 8; ++i) agree = agree && std::abs(obs[i] - expected[i]) <= tolerance;
    agree = agree && result.terminated == (row[12] == "1" || row[12] == "True");
    if (agree) {
      ++agreeing[seed];
    } else {
      parted[seed] = true;
    }
  }
  return agreeing;
}

}  // namespace

// With the same randomness the two simulations part only where the Box2D versions do. Measured
// (run this test case alone to print the figures): on Box2D 2.4, within 1e-4 every seed agrees
// for exactly its first 23 steps; at step 23 the legs' hinges reach their lower limit (joint
// angle 0.4), which 2.4 holds with another limit solver than 2.3, and the angular velocity jumps
// apart by up to 6e-3. Within 1e-2 the median seed agrees over all 60 recorded steps. On
// Gymnasium's Box2D 2.3 every seed agrees within 1e-4 over every recorded step.
TEST_CASE("LunarLander steps agree with Gymnasium's (on Box2D 2.4 until the leg hinges reach their limits)",
          "[envs][gymnasium][parity][lunarlander]") {
  std::map<uint64_t, int> recorded;
  std::map<double, std::vector<int>> counts;
  for (double tolerance : {1e-6, 1e-4, 1e-3, 1e-2}) {
    const auto agreeing = lunarlander_steps_in_agreement(tolerance, tolerance == 1e-4 ? &recorded : nullptr);
    for (const auto& [seed, n] : agreeing) counts[tolerance].push_back(n);
    std::vector<int>& c = counts[tolerance];
    std::sort(c.begin(), c.end());
    std::ostringstream text;
    text << "LunarLander-v3, 50 seeds, observation within " << tolerance << ": steps in agreement min " << c.front()
         << ", median " << c[c.size() / 2] << ", max " << c.back() << " (of up to 60 recorded)";
    WARN("Box2D " RLFORGE_BOX2D_VERSION ", " << text.str());
    if (gymnasiums_box2d() && tolerance >= 1e-4) {
      for (const auto& [seed, n] : agreeing) {
        INFO("seed " << seed << ", within " << tolerance);
        CHECK(n == recorded.at(seed));
      }
    }
  }
  REQUIRE(recorded.size() == 50);
  CHECK(counts[1e-4].front() >= 20);
  CHECK(counts[1e-2][counts[1e-2].size() / 2] >= 50);
}

namespace {

// The share of CarRacing's observation pixels within `levels` of Gymnasium's frames in every channel
// (tests/data/gymnasium-seeded/carracing/: seeds 0-2, the reset frame and 40 steps each).
struct PixelAgreement {
  double all = 0.0;                  // over every frame
  std::vector<double> per_frame;     // in file order
};

PixelAgreement carracing_pixel_agreement(const std::string& observation_render, int levels) {
  const std::string dir = std::string(RLFORGE_TEST_DATA_DIR) + "/gymnasium-seeded/carracing/";
  std::map<uint64_t, std::vector<std::array<float, 3>>> actions;
  for (const Fields& row : read_rows("carracing/actions.csv")) {
    const std::vector<double> a = numbers(row, 2, 3);
    actions[std::stoull(row[0])].push_back({static_cast<float>(a[0]), static_cast<float>(a[1]), static_cast<float>(a[2])});
  }
  REQUIRE(actions.size() == 3);
  auto env = make_env("CarRacing-v3", {{"observation_render", observation_render}});
  std::vector<uint8_t> obs(env->spec().observation_space.byte_size());
  PixelAgreement result;
  std::size_t close = 0, total = 0;
  auto compare = [&](uint64_t seed, int step) {
    const Image frame = read_image(dir + "frames/seed" + std::to_string(seed) + "_step" + std::to_string(step) + ".png");
    REQUIRE(frame.rgb.size() == obs.size());
    // A pixel agrees when each of its three channels does.
    std::size_t frame_close = 0;
    const std::size_t pixels = obs.size() / 3;
    for (std::size_t p = 0; p < pixels; ++p) {
      bool agree = true;
      for (std::size_t k = 0; k < 3; ++k) agree = agree && std::abs(int{obs[3 * p + k]} - int{frame.rgb[3 * p + k]}) <= levels;
      frame_close += agree;
    }
    result.per_frame.push_back(static_cast<double>(frame_close) / static_cast<double>(pixels));
    close += frame_close;
    total += pixels;
  };
  for (const auto& [seed, steps] : actions) {
    env->reset(seed, obs.data());
    compare(seed, -1);
    for (std::size_t t = 0; t < steps.size(); ++t) {
      env->step(ActionRef::box(steps[t].data(), 3), obs.data());
      compare(seed, static_cast<int>(t));
    }
  }
  result.all = static_cast<double>(close) / static_cast<double>(total);
  return result;
}

}  // namespace

TEST_CASE("CarRacing's pixels are Gymnasium's: drawn at 1000x800 and shrunk by area averaging",
          "[envs][gymnasium][parity][carracing]") {
  const PixelAgreement gymnasium = carracing_pixel_agreement("gymnasium", 8);
  const PixelAgreement fast = carracing_pixel_agreement("fast", 8);
  std::ostringstream text;
  text << "CarRacing-v3, seeds 0-2, reset and 40 steps: pixels within 8 levels of Gymnasium's in each channel: gymnasium "
       << gymnasium.all << " (worst frame " << *std::min_element(gymnasium.per_frame.begin(), gymnasium.per_frame.end())
       << "), fast " << fast.all << " (worst frame " << *std::min_element(fast.per_frame.begin(), fast.per_frame.end()) << ")";
  WARN(text.str());
  CHECK(gymnasium.all >= 0.95);
  CHECK(gymnasium.all > fast.all);
}
