// Every registered environment passes the conformance suite; and the suite does catch broken envs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>

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
