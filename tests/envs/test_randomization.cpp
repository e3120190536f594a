// Domain randomisation (rlforge/envs/randomization.h): options drawn per episode, reproducibly,
// each episode the simulator the drawn options make, and the Env contract kept.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "env_test_helpers.h"
#include "rlforge/envs/conformance.h"
#include "rlforge/envs/randomization.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/vector_env.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

std::vector<OptionDistribution> lander_shift() {
  // Gymnasium refuses gravity -12 itself: (-12, 0) is open.
  return {OptionDistribution::parse("gravity", "uniform:-11.99:-4"), OptionDistribution::parse("wind_power", "uniform:0:20")};
}

double number(const Options& o, const std::string& name) { return std::get<double>(o.values().at(name)); }

}  // namespace

TEST_CASE("distributions parse, print back and refuse bad text", "[envs][randomization]") {
  const auto u = OptionDistribution::parse("gravity", "uniform:-12:-4");
  CHECK(u.kind == OptionDistribution::Kind::Uniform);
  CHECK(u.low == -12.0);
  CHECK(u.high == -4.0);
  CHECK(u.text() == "uniform:-12:-4");
  CHECK(OptionDistribution::parse("g", "uniform:-11.99:0.1").text() == "uniform:-11.99:0.1");
  // Round numbers print as written, not in the "1e+01" form of a one-digit "%g".
  CHECK(OptionDistribution::parse("wind_power", "uniform:10:20").text() == "uniform:10:20");
  CHECK(OptionDistribution::parse("turbulence_power", "loguniform:0.001:1e6").text() ==
        "loguniform:0.001:1000000");
  // An exponent only where it is more than two characters shorter.
  CHECK(OptionDistribution::parse("turbulence_power", "loguniform:1e-8:0.0003").text() == "loguniform:1e-08:0.0003");
  const auto c = OptionDistribution::parse("hardcore", "choice:true,false");
  CHECK(c.choices == std::vector<std::string>{"true", "false"});
  CHECK(c.text() == "choice:true,false");
  CHECK(OptionDistribution::parse("n", "int:1:3").kind == OptionDistribution::Kind::Integer);

  CHECK_THAT(error_of([] { OptionDistribution::parse("gravity", "normal:0:1"); }),
             Catch::Contains("randomize gravity: 'normal:0:1': unknown distribution 'normal'"));
  CHECK_THAT(error_of([] { OptionDistribution::parse("gravity", "uniform:-4:-12"); }),
             Catch::Contains("expected LOW < HIGH"));
  CHECK_THAT(error_of([] { OptionDistribution::parse("gravity", "uniform:a:1"); }),
             Catch::Contains("'a' is not a number"));
  CHECK_THAT(error_of([] { OptionDistribution::parse("power", "loguniform:0:1"); }),
             Catch::Contains("loguniform needs LOW > 0"));
  CHECK_THAT(error_of([] { OptionDistribution::parse("x", "choice:1"); }), Catch::Contains("two values or more"));
  CHECK_THAT(error_of([] { OptionDistribution::parse("x", "-9"); }), Catch::Contains("expected uniform:LOW:HIGH"));
}

TEST_CASE("draws stay in range, spread over it, and follow the distribution", "[envs][randomization]") {
  NumpyGenerator rng(3);
  const auto u = OptionDistribution::parse("g", "uniform:-12:-4");
  const auto l = OptionDistribution::parse("p", "loguniform:0.1:10");
  const auto i = OptionDistribution::parse("k", "int:1:3");
  double sum = 0, log_sum = 0;
  std::set<int64_t> ints;
  const int n = 20000;
  for (int k = 0; k < n; ++k) {
    const double a = u.draw(rng), b = l.draw(rng);
    REQUIRE(a >= -12.0);
    REQUIRE(a < -4.0);
    REQUIRE(b >= 0.1);
    REQUIRE(b < 10.0);
    sum += a;
    log_sum += std::log10(b);
    ints.insert(std::get<int64_t>(i.value(i.draw(rng))));
  }
  CHECK(sum / n == Approx(-8.0).margin(0.05));
  CHECK(log_sum / n == Approx(0.0).margin(0.01));  // uniform in log10 over [-1, 1]
  CHECK(ints == std::set<int64_t>{1, 2, 3});
}

TEST_CASE("a randomised env plays each episode on the simulator its drawn options make", "[envs][randomization]") {
  Options fixed;
  fixed.set("enable_wind", true);
  auto env = make_randomized_env("LunarLander-v3", fixed, lander_shift());
  auto* randomized = dynamic_cast<RandomizedEnv*>(env.get());
  REQUIRE(randomized != nullptr);
  std::vector<float> a(8), b(8);
  std::set<double> gravities;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    env->reset(seed, a.data());
    const Options drawn = randomized->current_options();
    const double g = number(drawn, "gravity"), w = number(drawn, "wind_power");
    CHECK(g >= -11.99);
    CHECK(g < -4.0);
    CHECK(w >= 0.0);
    CHECK(w < 20.0);
    gravities.insert(g);
    // The same episode as the plain env made with those options and reset with the same seed.
    auto plain = make_env("LunarLander-v3", drawn);
    plain->reset(seed, b.data());
    CHECK(a == b);
    for (int t = 0; t < 60 && !env->needs_reset(); ++t) {
      const int64_t action = t % 4;
      const StepResult ra = env->step(action, a.data());
      const StepResult rb = plain->step(action, b.data());
      REQUIRE(a == b);
      REQUIRE(ra.reward == rb.reward);
    }
  }
  CHECK(gravities.size() == 5);

  // Unseeded resets draw new options and continue reproducibly from the first seed.
  auto again = make_randomized_env("LunarLander-v3", fixed, lander_shift());
  auto* second = dynamic_cast<RandomizedEnv*>(again.get());
  env->reset(uint64_t{77}, a.data());
  again->reset(uint64_t{77}, b.data());
  for (int episode = 0; episode < 4; ++episode) {
    env->reset(std::nullopt, a.data());
    again->reset(std::nullopt, b.data());
    CHECK(a == b);
    CHECK(number(randomized->current_options(), "gravity") == number(second->current_options(), "gravity"));
  }
}

TEST_CASE("randomised envs pass the conformance suite", "[envs][randomization][conformance]") {
  EnvRegistry registry;
  registry.add({"test/RandomLander-v0", "LunarLander with random gravity and wind", {}, [](const ResolvedOptions&) {
                  Options fixed;
                  fixed.set("enable_wind", true);
                  return make_randomized_env("LunarLander-v3", fixed, lander_shift());
                }});
  registry.add({"test/RandomCartPole-v0", "CartPole with a random episode limit", {}, [](const ResolvedOptions&) {
                  return make_randomized_env("CartPole-v1", {}, {OptionDistribution::parse("sutton_barto_reward", "choice:true,false")});
                }});
  ConformanceSettings settings;
  settings.random_steps = 600;
  for (const std::string id : {"test/RandomLander-v0", "test/RandomCartPole-v0"}) {
    SECTION(id) {
      for (const auto& check : check_env_conformance(registry, id, {}, settings)) {
        INFO(check.property << ": " << check.detail);
        CHECK(check.passed);
      }
    }
  }
}

TEST_CASE("randomisation that would change a space, or fight a fixed option, is refused", "[envs][randomization]") {
  CHECK_THAT(error_of([] {
               make_randomized_env("LunarLander-v3", {}, {OptionDistribution::parse("continuous", "choice:false,true")});
             }),
             Catch::Contains("randomising 'continuous' (choice:false,true) changes the observation or action space"));
  CHECK_THAT(error_of([] {
               Options fixed;
               fixed.set("gravity", -9.0);
               make_randomized_env("LunarLander-v3", fixed, lander_shift());
             }),
             Catch::Contains("option 'gravity' is both set and randomised"));
  CHECK_THAT(error_of([] { make_randomized_env("LunarLander-v3", {}, {OptionDistribution::parse("gravity", "uniform:-12:-4")}); }),
             Catch::Contains("gravity must be in (-12, 0), got -12"));
  // HIGH is never drawn, so a range open at HIGH is accepted.
  CHECK(make_randomized_env("LunarLander-v3", {}, {OptionDistribution::parse("gravity", "uniform:-6:0")}) != nullptr);
}

TEST_CASE("a randomised vector env gives the same batches for any number of threads and resumes exactly",
          "[envs][randomization]") {
  auto config = [](int threads) {
    VectorEnvConfig c;
    c.id = "LunarLander-v3";
    c.options.set("enable_wind", true);
    c.randomize = lander_shift();
    c.num_envs = 5;
    c.threads = threads;
    return c;
  };
  auto play = [](VectorEnv& venv, int steps, int offset) {
    std::vector<int64_t> actions(static_cast<std::size_t>(venv.num_envs()));
    std::vector<float> all;
    for (int t = 0; t < steps; ++t) {
      for (std::size_t i = 0; i < actions.size(); ++i) actions[i] = static_cast<int64_t>((t + offset + i) % 4);
      venv.step(actions);
      const auto* obs = static_cast<const float*>(venv.observations());
      all.insert(all.end(), obs, obs + venv.num_envs() * 8);
    }
    return all;
  };
  VectorEnv one(config(1)), two(config(2));
  one.reset(uint64_t{5});
  two.reset(uint64_t{5});
  CHECK(play(one, 300, 0) == play(two, 300, 0));
  VectorEnv restored(config(1));
  restored.restore(one.snapshot());
  CHECK(play(one, 300, 1) == play(restored, 300, 1));
}

TEST_CASE("a curriculum moves each draw towards its start by the reach", "[envs][randomization][curriculum]") {
  const auto u = OptionDistribution::parse("g", "uniform:-12:-4");
  const auto l = OptionDistribution::parse("p", "loguniform:0.1:10");
  CHECK(u.toward(-12.0, -8.0, 0.0) == -8.0);
  CHECK(u.toward(-12.0, -8.0, 0.25) == -9.0);
  CHECK(u.toward(-4.0, -8.0, 0.5) == -6.0);
  CHECK(l.toward(10.0, 1.0, 0.5) == Approx(std::sqrt(10.0)));  // halfway in log space
  CHECK(l.toward(0.1, 1.0, 0.0) == Approx(1.0));

  RandomizeCurriculum c;
  CHECK(c.reach(0, 100) == 1.0);  // no curriculum: the whole ranges
  c.from["g"] = -8.0;
  c.until = 0.5;
  CHECK(c.reach(0, 100) == 0.0);
  CHECK(c.reach(25, 100) == 0.5);
  CHECK(c.reach(50, 100) == 1.0);
  CHECK(c.reach(90, 100) == 1.0);
}

TEST_CASE("a vector env's curriculum draws inside the scaled ranges, and only where a reach is set",
          "[envs][randomization][curriculum]") {
  auto config = [](int threads, bool curriculum) {
    VectorEnvConfig c;
    c.id = "LunarLander-v3";
    c.options.set("enable_wind", true);
    c.randomize = lander_shift();
    if (curriculum) c.curriculum.from = {{"wind_power", 20.0}};
    c.num_envs = 4;
    c.threads = threads;
    return c;
  };
  // The options of every env's episodes over `resets` seeded resets of the vector env.
  auto draws = [](VectorEnv& venv, int resets) {
    std::vector<std::pair<double, double>> out;
    for (int r = 0; r < resets; ++r) {
      venv.reset(static_cast<uint64_t>(100 + 10 * r));
      for (int i = 0; i < venv.num_envs(); ++i) {
        const auto& env = dynamic_cast<RandomizedEnv&>(venv.env(i));
        out.emplace_back(number(env.current_options(), "gravity"), number(env.current_options(), "wind_power"));
      }
    }
    return out;
  };
  // Never set (evaluation's envs): the whole ranges, draw for draw those without a curriculum.
  VectorEnv whole(config(1, true)), plain(config(1, false));
  const auto whole_draws = draws(whole, 50);
  CHECK(whole_draws == draws(plain, 50));

  VectorEnv start(config(2, true));
  start.set_randomize_reach(0.0);
  const auto start_draws = draws(start, 10);
  for (std::size_t k = 0; k < start_draws.size(); ++k) {
    CHECK(start_draws[k].second == 20.0);
    CHECK(start_draws[k].first == whole_draws[k].first);  // gravity is not in the curriculum
  }

  VectorEnv quarter(config(2, true));
  quarter.set_randomize_reach(0.25);
  const auto quarter_draws = draws(quarter, 50);
  double low = 20, high = 0;
  for (std::size_t k = 0; k < quarter_draws.size(); ++k) {
    const double w = quarter_draws[k].second;
    REQUIRE(w >= 15.0);
    REQUIRE(w <= 20.0);
    low = std::min(low, w);
    high = std::max(high, w);
    // The same generator draws at every reach: each is the whole-range draw moved towards 20.
    CHECK(w == Approx(20.0 + 0.25 * (whole_draws[k].second - 20.0)).epsilon(1e-12));
  }
  CHECK(low < 15.5);  // 200 draws spread over the quarter range [15, 20]
  CHECK(high > 19.5);

  // A snapshot carries the drawn options, so a restored env continues the same episodes.
  VectorEnv restored(config(1, true));
  restored.restore(quarter.snapshot());
  CHECK(number(dynamic_cast<RandomizedEnv&>(restored.env(3)).current_options(), "wind_power") == quarter_draws.back().second);
}

TEST_CASE("a curriculum over an option that is not a randomised uniform range is refused", "[envs][randomization][curriculum]") {
  auto with = [](const std::string& option, double start, const std::string& dist) {
    VectorEnvConfig c;
    c.id = "LunarLander-v3";
    c.options.set("enable_wind", true);
    if (!dist.empty()) c.randomize = {OptionDistribution::parse("wind_power", dist)};
    c.curriculum.from = {{option, start}};
    return error_of([&] { make_configured_env(c); });
  };
  CHECK_THAT(with("gravity", -8, "uniform:0:20"),
             Catch::Contains("curriculum option 'gravity' (from -8) is not randomised"));
  CHECK_THAT(with("wind_power", 25, "uniform:0:20"),
             Catch::Contains("curriculum option 'wind_power' (from 25) is outside its range uniform:0:20"));
  CHECK_THAT(with("wind_power", 5, "int:0:20"), Catch::Contains("its range int:0:20 is not uniform or loguniform"));
  CHECK(with("wind_power", 5, "").empty());  // nothing randomised (a stress cell's fixed options): nothing to act on
  CHECK(with("wind_power", 20, "uniform:0:20").empty());  // HIGH itself is a valid start
}
