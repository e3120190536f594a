// ObserveOptions (rlforge/envs/observed_options.h): the env's own observation, then each named
// option of the current episode mapped from its range to [-1, 1]; drawn options under
// randomisation, the config's or the defaults otherwise; kept across snapshots; the Env contract.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "env_test_helpers.h"
#include "rlforge/envs/conformance.h"
#include "rlforge/envs/observed_options.h"
#include "rlforge/envs/randomization.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/vector_env.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

VectorEnvConfig lander(const std::string& ranges) {
  VectorEnvConfig c;
  c.id = "LunarLander-v3";
  c.options.set("enable_wind", true);
  c.wrappers = {WrapperSpec{"ObserveOptions", Options{{"ranges", ranges}}}};
  return c;
}

double scaled(double v, double low, double high) { return 2.0 * (v - low) / (high - low) - 1.0; }

}  // namespace

TEST_CASE("ranges parse, and bad ones are refused naming the item", "[envs][observed_options]") {
  const auto r = parse_observed_options("gravity:-12:-4, wind_power:0:20");
  REQUIRE(r.size() == 2);
  CHECK(r[0].name == "gravity");
  CHECK(r[0].low == -12.0);
  CHECK(r[0].high == -4.0);
  CHECK(r[1].name == "wind_power");
  CHECK(r[1].high == 20.0);
  CHECK_THAT(error_of([] { parse_observed_options("gravity:-4:-12"); }), Catch::Contains("'gravity:-4:-12': expected LOW < HIGH"));
  CHECK_THAT(error_of([] { parse_observed_options("gravity:-12"); }), Catch::Contains("expected name:LOW:HIGH"));
  CHECK_THAT(error_of([] { parse_observed_options("gravity:a:1"); }), Catch::Contains("'a' is not a number"));
  CHECK_THAT(error_of([] { parse_observed_options("g:0:1,g:0:2"); }), Catch::Contains("'g' is named twice"));
  CHECK_THAT(error_of([] { parse_observed_options(""); }), Catch::Contains("expected name:LOW:HIGH"));
  CHECK_THAT(error_of([] { parse_observed_options("gravity:-12:-4,"); }), Catch::Contains("expected name:LOW:HIGH"));
}

TEST_CASE("fixed options: the env's observation, then the given or default values scaled", "[envs][observed_options]") {
  VectorEnvConfig c = lander("gravity:-12:-4,wind_power:0:20");
  c.options.set("gravity", std::string("-8"));  // as a config gives it: text
  auto env = make_configured_env(c);
  REQUIRE(env->spec().observation_space.size() == 10);
  CHECK(env->spec().observation_names.at(8) == "gravity");
  CHECK(env->spec().observation_names.at(9) == "wind_power");
  auto plain = make_env("LunarLander-v3", c.options);
  std::vector<float> a(10), b(8);
  env->reset(uint64_t{5}, a.data());
  plain->reset(uint64_t{5}, b.data());
  CHECK(std::vector<float>(a.begin(), a.begin() + 8) == b);
  CHECK(a[8] == Approx(scaled(-8, -12, -4)));      // 0
  CHECK(a[9] == Approx(scaled(15.0, 0, 20)));      // Gymnasium's default wind power, 15
  for (int t = 0; t < 50 && !env->needs_reset(); ++t) {
    env->step(int64_t{t % 4}, a.data());
    plain->step(int64_t{t % 4}, b.data());
    REQUIRE(std::vector<float>(a.begin(), a.begin() + 8) == b);
    REQUIRE(a[8] == Approx(0.0).margin(1e-7));
  }
  // Unset, gravity is the default -10: -0.5 on [-12, -4]; values outside the range are not clipped.
  auto defaults = make_configured_env(lander("gravity:-8:-4"));
  std::vector<float> d(9);
  defaults->reset(uint64_t{1}, d.data());
  CHECK(d[8] == Approx(scaled(-10, -8, -4)));  // -2
}

TEST_CASE("randomised options: each episode observes its own draws, also after a restore", "[envs][observed_options]") {
  VectorEnvConfig c = lander("gravity:-12:-4,wind_power:0:20");
  c.randomize = {OptionDistribution::parse("gravity", "uniform:-11.99:-4"), OptionDistribution::parse("wind_power", "uniform:0:20")};
  auto env = make_configured_env(c);
  auto* observe = dynamic_cast<ObserveOptions*>(env.get());
  REQUIRE(observe != nullptr);
  auto* randomized = dynamic_cast<RandomizedEnv*>(&observe->inner());
  REQUIRE(randomized != nullptr);
  std::vector<float> obs(10);
  std::vector<float> seen;
  std::string snapshot;
  std::vector<float> at_snapshot;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    env->reset(seed, obs.data());
    const auto& drawn = randomized->current_options().values();
    CHECK(obs[8] == Approx(scaled(std::get<double>(drawn.at("gravity")), -12, -4)));
    CHECK(obs[9] == Approx(scaled(std::get<double>(drawn.at("wind_power")), 0, 20)));
    CHECK(obs[8] >= -1.0f);
    CHECK(obs[8] <= 1.0f);
    seen.push_back(obs[8]);
    if (seed == 1) {
      snapshot = env->snapshot();
      at_snapshot = observe->observed_values();
    }
  }
  CHECK(seen[0] != seen[1]);
  CHECK(seen[1] != seen[2]);
  // Restored into an env in another episode, the observed values are the snapshot's episode's.
  REQUIRE(observe->observed_values() != at_snapshot);
  env->restore(snapshot);
  CHECK(observe->observed_values() == at_snapshot);
  env->step(int64_t{0}, obs.data());
  CHECK(obs[8] == at_snapshot[0]);
  CHECK(obs[9] == at_snapshot[1]);
}

TEST_CASE("ObserveOptions passes the conformance suite", "[envs][observed_options][conformance]") {
  EnvRegistry registry;
  registry.add({"test/ObservedLander-v0", "LunarLander told its random gravity", {}, [](const ResolvedOptions&) {
                  VectorEnvConfig c = lander("gravity:-12:-4");
                  c.randomize = {OptionDistribution::parse("gravity", "uniform:-11.99:-4")};
                  return make_configured_env(c);
                }});
  ConformanceSettings settings;
  settings.random_steps = 600;
  for (const auto& check : check_env_conformance(registry, "test/ObservedLander-v0", {}, settings)) {
    INFO(check.property << ": " << check.detail);
    CHECK(check.passed);
  }
}

TEST_CASE("ObserveOptions refuses what it cannot observe", "[envs][observed_options]") {
  CHECK_THAT(error_of([] { make_configured_env(lander("gravty:-12:-4")); }),
             Catch::Contains("env 'LunarLander-v3' has no option 'gravty'; options it can observe:") &&
                 Catch::Contains("wind_power"));
  CHECK_THAT(error_of([] { make_configured_env(lander("enable_wind:0:1")); }),
             Catch::Contains("option 'enable_wind' is not a number"));
  CHECK_THAT(error_of([] { make_configured_env(lander("")); }), Catch::Contains("expected name:LOW:HIGH"));
  VectorEnvConfig stacked = lander("gravity:-12:-4");
  stacked.wrappers.insert(stacked.wrappers.begin(), WrapperSpec{"FrameStack", Options{{"num_stack", int64_t{2}}}});
  CHECK_THAT(error_of([&] { make_configured_env(stacked); }), Catch::Contains("needs a float32 vector observation"));
  CHECK_THAT(error_of([] { wrap_env(make_env("LunarLander-v3"), WrapperSpec{"ObserveOptions", Options{{"ranges", std::string("gravity:-12:-4")}}}); }),
             Catch::Contains("name it in a config's env.wrappers"));
}
