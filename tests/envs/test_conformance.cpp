// Every registered environment passes the conformance suite; and the suite does catch broken envs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "rlforge/envs/conformance.h"
#include "rlforge/envs/registry.h"

using namespace rlforge;

namespace {

void require_all_pass(const std::vector<ConformanceCheck>& checks) {
  REQUIRE(checks.size() >= 14);
  for (const auto& c : checks) {
    INFO(c.property << ": " << c.detail);
    CHECK(c.passed);
  }
}

const ConformanceCheck& find_check(const std::vector<ConformanceCheck>& checks, const std::string& prefix) {
  for (const auto& c : checks) {
    if (c.property.rfind(prefix, 0) == 0) return c;
  }
  FAIL("no check named " << prefix);
  return checks.front();
}

// A one-dimensional walk whose flaws are switched on one at a time.
struct Flaws {
  bool obs_outside_space = false;
  bool ignores_seed = false;
};

std::atomic<int> global_counter{0};

class FlawedWalk final : public Env {
 public:
  explicit FlawedWalk(Flaws flaws)
      : Env(EnvSpec{"test/FlawedWalk-v0", Space::box({1}, -1.0f, 1.0f), Space::box({1}, -1.0f, 1.0f), 50, {}}),
        flaws_(flaws) {}

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    x_ = flaws_.ignores_seed ? 0.01 * (global_counter++ % 50) : rng().uniform(-0.5, 0.5);
    static_cast<float*>(obs)[0] = static_cast<float>(x_);
  }
  StepResult step_impl(const void* action, void* obs) override {
    x_ = std::clamp(x_ + 0.1 * std::clamp(static_cast<const float*>(action)[0], -1.0f, 1.0f), -1.0, 1.0);
    const bool done = x_ <= -1.0 || x_ >= 1.0;
    static_cast<float*>(obs)[0] = static_cast<float>(flaws_.obs_outside_space ? x_ * 3 : x_);
    return {-std::abs(x_), done, false};
  }

 private:
  Flaws flaws_;
  double x_ = 0;
};

EnvRegistry flawed_registry() {
  EnvRegistry registry;
  registry.add({"test/FlawedWalk-v0", "a walk with switchable flaws",
                {{"obs_outside_space", false, ""}, {"ignores_seed", false, ""}},
                [](const ResolvedOptions& o) {
                  return std::make_unique<FlawedWalk>(
                      Flaws{o.get_bool("obs_outside_space"), o.get_bool("ignores_seed")});
                }});
  return registry;
}

}  // namespace

TEST_CASE("every registered environment passes the conformance suite", "[envs][conformance]") {
  const auto ids = env_registry().ids();
  REQUIRE(ids.size() >= 5);
  for (const std::string& id : ids) {
    SECTION(id) { require_all_pass(check_env_conformance(id)); }
  }
}

TEST_CASE("conformance holds with non-default options", "[envs][conformance]") {
  require_all_pass(check_env_conformance("Pendulum-v1", Options{{"g", 9.81}}));
  require_all_pass(check_env_conformance("CartPole-v1", Options{{"sutton_barto_reward", true}}));
}

TEST_CASE("conformance holds with shifted physical parameters", "[envs][conformance][physics]") {
  // As in Gymnasium, LunarLander's angle (bounds +-2 pi) and BipedalWalker's hull angle (+-pi) are
  // not wrapped: a random rollout that spins the body past them leaves the observation space.
  // That happens at the defaults too on some seeds (LunarLander-v3 at check-env seeds 2, 3, 8),
  // and sooner with stronger side engines or weaker motors, so these sets keep to shifts under
  // which the suite's random rollout (seed 0) does not spin the body over.
  const std::vector<std::pair<std::string, Options>> shifted = {
      {"CartPole-v1",
       {{"gravity", 12.0},
        {"masscart", 1.3},
        {"masspole", 0.2},
        {"length", 0.7},
        {"force_mag", 8.0}}},
      {"MountainCar-v0", {{"force", 0.0015}, {"gravity", 0.002}}},
      {"MountainCarContinuous-v0", {{"power", 0.002}}},
      {"Pendulum-v1",
       {{"g", 9.81}, {"m", 1.2}, {"l", 0.8}, {"max_torque", 3.0}, {"max_speed", 10.0}}},
      {"Acrobot-v1",
       {{"link_length_1", 1.2},
        {"link_length_2", 0.8},
        {"link_mass_1", 1.1},
        {"link_mass_2", 0.8},
        {"link_com_pos_1", 0.4},
        {"link_com_pos_2", 0.6},
        {"link_moi", 1.3}}},
      {"LunarLander-v3", {{"main_engine_power", 10.0}, {"side_engine_power", 0.45}}},
      {"LunarLanderContinuous-v3", {{"main_engine_power", 16.0}, {"side_engine_power", 0.5}}},
      {"BipedalWalker-v3",
       {{"motor_torque", 60.0}, {"hull_density", 6.0}, {"terrain_roughness", 1.5}}},
      {"BipedalWalkerHardcore-v3", {{"motor_torque", 100.0}, {"terrain_roughness", 0.5}}},
      {"CarRacing-v3",
       {{"engine_power", 30000.0},
        {"friction_limit", 300.0},
        {"road_friction", 0.8},
        {"observation_render", std::string("fast")}}},
  };
  for (const auto& [id, options] : shifted) {
    SECTION(id) {
      require_all_pass(check_env_conformance(id, options));
    }
  }
}

TEST_CASE("a well-behaved custom env passes and flawed ones fail the right checks", "[envs][conformance]") {
  const EnvRegistry registry = flawed_registry();
  require_all_pass(check_env_conformance(registry, "test/FlawedWalk-v0"));

  const auto outside = check_env_conformance(registry, "test/FlawedWalk-v0", Options{{"obs_outside_space", true}});
  CHECK_FALSE(find_check(outside, "random rollout stays in the observation space").passed);

  const auto unseeded = check_env_conformance(registry, "test/FlawedWalk-v0", Options{{"ignores_seed", true}});
  CHECK_FALSE(find_check(unseeded, "the same seed and actions give the same trajectory").passed);
  CHECK_FALSE(find_check(unseeded, "vector env: bit-identical outputs").passed);
  // A failure says what was seen and what usually causes it.
  CHECK_THAT(find_check(unseeded, "the same seed and actions").detail,
             Catch::Contains("differ at row") && Catch::Contains("usually: draw all randomness from rng()"));
}

TEST_CASE("conformance on an unknown id is an error listing the registered ids", "[envs][conformance]") {
  REQUIRE_THROWS_WITH(check_env_conformance("NoSuchEnv-v9"),
                      Catch::Contains("NoSuchEnv-v9") && Catch::Contains("CartPole-v1"));
}
