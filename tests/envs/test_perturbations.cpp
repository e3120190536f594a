// Perturbation wrappers (rlforge/envs/perturbations.h): each does what it says to observations or
// actions, is reproducible under its seed, and keeps the Env contract (the conformance suite).
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <vector>

#include "env_test_helpers.h"
#include "rlforge/envs/classic/cartpole.h"
#include "rlforge/envs/conformance.h"
#include "rlforge/envs/perturbations.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/vector_env.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

std::unique_ptr<Env> wrapped(const std::string& id, const std::string& wrapper, Options options = {}) {
  return wrap_env(make_env(id), WrapperSpec{wrapper, std::move(options)});
}

// Observations of a fixed action sequence from reset(seed).
std::vector<std::vector<float>> rollout(Env& env, uint64_t seed, int steps, const std::vector<float>& box_action = {}) {
  std::vector<std::vector<float>> out;
  std::vector<float> obs(env.spec().observation_space.size());
  env.reset(seed, obs.data());
  out.push_back(obs);
  for (int t = 0; t < steps && !env.needs_reset(); ++t) {
    if (env.spec().action_space.is_discrete()) {
      env.step(static_cast<int64_t>(t % 2), obs.data());
    } else {
      env.step(box_action, obs.data());
    }
    out.push_back(obs);
  }
  return out;
}

}  // namespace

TEST_CASE("perturbation wrappers pass the conformance suite", "[envs][perturbations][conformance]") {
  struct Case {
    std::string env, wrapper;
    Options options;
  };
  const std::vector<Case> cases = {
      {"CartPole-v1", "ObservationNoise", Options{{"std", 0.05}}},
      {"Pendulum-v1", "ObservationNoise", Options{{"std", 0.2}, {"scale", std::string("1,1,2")}}},
      {"CartPole-v1", "SensorFailure", Options{{"index", int64_t{2}}, {"mode", std::string("stuck")}}},
      {"Acrobot-v1", "SensorFailure", Options{{"index", int64_t{5}}, {"mode", std::string("dropped")}}},
      {"CartPole-v1", "ObservationDelay", Options{{"delay", int64_t{2}}}},
      {"Pendulum-v1", "FrameDrop", Options{{"probability", 0.3}}},
      {"CartPole-v1", "ActionNoise", Options{{"scale", 0.2}}},
      {"MountainCarContinuous-v0", "ActionNoise", Options{{"scale", 0.5}}},
      {"CartPole-v1", "ActionDelay", Options{{"delay", int64_t{3}}}},
      {"Pendulum-v1", "ActionDelay", Options{{"delay", int64_t{1}}}},
      {"Acrobot-v1", "StickyActions", Options{{"probability", 0.25}}},
      {"LunarLander-v3", "StickyActions", Options{{"probability", 0.25}}},
  };
  for (const Case& c : cases) {
    SECTION(c.wrapper + " on " + c.env) {
      EnvRegistry registry;
      registry.add({"test/Perturbed-v0", "a registered env under one perturbation", {},
                    [c](const ResolvedOptions&) { return wrapped(c.env, c.wrapper, c.options); }});
      ConformanceSettings settings;
      settings.random_steps = 600;
      for (const auto& check : check_env_conformance(registry, "test/Perturbed-v0", {}, settings)) {
        INFO(check.property << ": " << check.detail);
        CHECK(check.passed);
      }
    }
  }
}

TEST_CASE("ObservationNoise adds noise of the asked spread, per element, reproducibly", "[envs][perturbations]") {
  // CartPole's first observation lies within 0.05 of 0, far inside its bounds, so the
  // difference to the clean env is the noise itself.
  const std::vector<double> scale = {1.0, 0.5, 1.0, 2.0};
  std::vector<double> sum(4, 0.0), square(4, 0.0);
  const int n = 4000;
  auto clean = make_env("CartPole-v1");
  auto noisy = wrapped("CartPole-v1", "ObservationNoise", Options{{"std", 0.1}, {"scale", std::string("1,0.5,1,2")}});
  std::vector<float> a(4), b(4);
  for (int i = 0; i < n; ++i) {
    clean->reset(static_cast<uint64_t>(i), a.data());
    noisy->reset(static_cast<uint64_t>(i), b.data());
    for (std::size_t k = 0; k < 4; ++k) {
      const double d = b[k] - a[k];
      sum[k] += d;
      square[k] += d * d;
    }
  }
  for (std::size_t k = 0; k < 4; ++k) {
    const double mean = sum[k] / n;
    const double sd = std::sqrt(square[k] / n - mean * mean);
    INFO("element " << k);
    CHECK(std::abs(mean) < 4 * 0.1 * scale[k] / std::sqrt(n));
    CHECK(sd == Approx(0.1 * scale[k]).epsilon(0.05));
  }
  // Same seed, same noise; the noise is not the simulator's stream.
  auto again = wrapped("CartPole-v1", "ObservationNoise", Options{{"std", 0.1}, {"scale", std::string("1,0.5,1,2")}});
  CHECK(rollout(*noisy, 7, 20) == rollout(*again, 7, 20));
  CHECK(rollout(*noisy, 7, 20) != rollout(*noisy, 8, 20));
}

TEST_CASE("ObservationNoise of std 0 and the delays of 0 change nothing", "[envs][perturbations]") {
  auto clean = make_env("CartPole-v1");
  const auto reference = rollout(*clean, 3, 40);
  CHECK(rollout(*wrapped("CartPole-v1", "ObservationNoise", Options{{"std", 0.0}}), 3, 40) == reference);
  CHECK(rollout(*wrapped("CartPole-v1", "ObservationDelay", Options{{"delay", int64_t{0}}}), 3, 40) == reference);
  CHECK(rollout(*wrapped("CartPole-v1", "ActionDelay", Options{{"delay", int64_t{0}}}), 3, 40) == reference);
  CHECK(rollout(*wrapped("CartPole-v1", "StickyActions", Options{{"probability", 0.0}}), 3, 40) == reference);
  CHECK(rollout(*wrapped("CartPole-v1", "FrameDrop", Options{{"probability", 0.0}}), 3, 40) == reference);
  CHECK(rollout(*wrapped("CartPole-v1", "ActionNoise", Options{{"scale", 0.0}}), 3, 40) == reference);
}

TEST_CASE("ObservationDelay shows the observation of k steps ago", "[envs][perturbations]") {
  auto clean = make_env("CartPole-v1");
  const auto reference = rollout(*clean, 5, 30);
  const auto delayed = rollout(*wrapped("CartPole-v1", "ObservationDelay", Options{{"delay", int64_t{3}}}), 5, 30);
  REQUIRE(delayed.size() == reference.size());
  for (std::size_t t = 0; t < delayed.size(); ++t) {
    INFO("step " << t);
    CHECK(delayed[t] == reference[t >= 3 ? t - 3 : 0]);
  }
}

TEST_CASE("ActionDelay applies the action of k steps ago, a no-op before", "[envs][perturbations]") {
  // CartPole's state after pushing: compare with a clean env driven by the delayed sequence.
  const std::vector<int64_t> actions = {1, 1, 0, 1, 0, 0, 1, 1, 1, 0};
  auto delayed = wrapped("CartPole-v1", "ActionDelay", Options{{"delay", int64_t{2}}});
  auto clean = make_env("CartPole-v1");
  std::vector<float> a(4), b(4);
  delayed->reset(11, a.data());
  clean->reset(11, b.data());
  for (std::size_t t = 0; t < actions.size(); ++t) {
    delayed->step(actions[t], a.data());
    clean->step(t >= 2 ? actions[t - 2] : int64_t{0}, b.data());
    INFO("step " << t);
    CHECK(a == b);
  }
}

TEST_CASE("StickyActions repeats the previous action with its probability", "[envs][perturbations]") {
  // With probability 1 the first action sticks for the whole episode.
  auto always = wrapped("CartPole-v1", "StickyActions", Options{{"probability", 1.0}});
  auto clean = make_env("CartPole-v1");
  std::vector<float> a(4), b(4);
  always->reset(2, a.data());
  clean->reset(2, b.data());
  for (int t = 0; t < 8; ++t) {
    always->step(static_cast<int64_t>(t == 0 ? 1 : t % 2 == 0), a.data());
    clean->step(int64_t{1}, b.data());
    CHECK(a == b);
  }
  // At 0.25, about a quarter of alternating actions are replaced by the previous one: count the
  // steps where the cart's velocity change has the sign of the previous action, not the new.
  auto sticky = wrapped("CartPole-v1", "StickyActions", Options{{"probability", 0.25}});
  int stuck = 0, steps = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    sticky->reset(seed, a.data());
    int64_t applied = -1;
    for (int t = 0; t < 6 && !sticky->needs_reset(); ++t) {
      const float before = a[1];
      const int64_t asked = t % 2;
      sticky->step(asked, a.data());
      const int64_t seen = a[1] > before ? 1 : 0;
      if (t > 0) {
        ++steps;
        stuck += seen != asked;
        CHECK((seen == asked || seen == applied));
      }
      applied = seen;
    }
  }
  CHECK(static_cast<double>(stuck) / steps == Approx(0.25).margin(0.04));
}

TEST_CASE("ActionNoise: random Discrete actions at its rate, Box noise of its spread", "[envs][perturbations]") {
  auto noisy = wrapped("CartPole-v1", "ActionNoise", Options{{"scale", 0.4}});
  std::vector<float> a(4);
  int changed = 0, steps = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    noisy->reset(seed, a.data());
    for (int t = 0; t < 5 && !noisy->needs_reset(); ++t) {
      const float before = a[1];
      noisy->step(int64_t{1}, a.data());
      changed += a[1] < before;  // pushed left: the random action was 0
      ++steps;
    }
  }
  // A random action is 0 half the time: 0.4 x 0.5 of the steps.
  CHECK(static_cast<double>(changed) / steps == Approx(0.2).margin(0.035));

  // MountainCarContinuous: velocity change = power * clip(action) - 0.0025 cos(3x); with the
  // action 0 and the car held still, the change isolates the noise (std 0.3 x half range 1).
  auto box = wrapped("MountainCarContinuous-v0", "ActionNoise", Options{{"scale", 0.3}});
  auto clean = make_env("MountainCarContinuous-v0");
  std::vector<float> x(2), y(2);
  double square = 0;
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    box->reset(static_cast<uint64_t>(i), x.data());
    clean->reset(static_cast<uint64_t>(i), y.data());
    box->step(std::vector<float>{0.0f}, x.data());
    clean->step(std::vector<float>{0.0f}, y.data());
    const double noise = (static_cast<double>(x[1]) - y[1]) / 0.0015;
    square += noise * noise;
  }
  CHECK(std::sqrt(square / n) == Approx(0.3).epsilon(0.06));
}

TEST_CASE("SensorFailure holds or drops one element and leaves the others", "[envs][perturbations]") {
  auto clean = make_env("CartPole-v1");
  const auto reference = rollout(*clean, 9, 25);
  const auto stuck = rollout(*wrapped("CartPole-v1", "SensorFailure", Options{{"index", int64_t{3}}}), 9, 25);
  const auto dropped = rollout(
      *wrapped("CartPole-v1", "SensorFailure",
               Options{{"index", int64_t{0}}, {"mode", std::string("dropped")}, {"value", 0.5}}),
      9, 25);
  REQUIRE(stuck.size() == reference.size());
  for (std::size_t t = 0; t < stuck.size(); ++t) {
    CHECK(stuck[t][3] == reference[0][3]);
    CHECK(stuck[t][0] == reference[t][0]);
    CHECK(dropped[t][0] == 0.5f);
    CHECK(dropped[t][2] == reference[t][2]);
  }
}

TEST_CASE("FrameDrop repeats the last observation at its rate", "[envs][perturbations]") {
  auto dropping = wrapped("Pendulum-v1", "FrameDrop", Options{{"probability", 0.3}});
  std::vector<float> obs(3), last(3);
  int repeated = 0, steps = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    dropping->reset(seed, obs.data());
    for (int t = 0; t < 20; ++t) {
      last = obs;
      dropping->step(std::vector<float>{1.0f}, obs.data());
      repeated += obs == last;
      ++steps;
    }
  }
  CHECK(static_cast<double>(repeated) / steps == Approx(0.3).margin(0.03));
}

TEST_CASE("perturbations are refused with the value and what was expected", "[envs][perturbations]") {
  CHECK_THAT(error_of([] { wrapped("CartPole-v1", "SensorFailure", Options{{"index", int64_t{4}}}); }),
             Catch::Contains("index 4 is outside CartPole-v1's observation (4 elements: 0 to 3)"));
  CHECK_THAT(error_of([] { wrapped("CartPole-v1", "SensorFailure", Options{{"mode", std::string("broken")}}); }),
             Catch::Contains("option 'mode' is 'broken'; expected stuck or dropped"));
  CHECK_THAT(error_of([] { wrapped("CartPole-v1", "StickyActions", Options{{"probability", 1.5}}); }),
             Catch::Contains("probability must lie in [0, 1], got 1.5"));
  CHECK_THAT(error_of([] { wrapped("CartPole-v1", "ObservationNoise", Options{{"scale", std::string("1,2")}}); }),
             Catch::Contains("scale holds 2 values; CartPole-v1's observation has 4 elements"));
  CHECK_THAT(error_of([] { wrapped("CartPole-v1", "ObservationNoise", Options{{"scale", std::string("1,x,1,1")}}); }),
             Catch::Contains("'scale' holds 'x'; expected comma-separated numbers"));
  CHECK_THAT(error_of([] { wrapped("CartPole-v1", "ActionDelay", Options{{"delay", int64_t{-1}}}); }),
             Catch::Contains("ActionDelay needs delay >= 0, got -1"));
}

TEST_CASE("perturbed vector envs give the same batches for any number of threads", "[envs][perturbations]") {
  auto run = [](int threads) {
    VectorEnvConfig c;
    c.id = "LunarLander-v3";
    c.wrappers = {{"ObservationNoise", Options{{"std", 0.1}}}, {"StickyActions", Options{{"probability", 0.3}}}};
    c.num_envs = 6;
    c.threads = threads;
    VectorEnv venv(c);
    venv.reset(uint64_t{40});
    std::vector<int64_t> actions(6);
    std::vector<float> all;
    for (int t = 0; t < 120; ++t) {
      for (std::size_t i = 0; i < actions.size(); ++i) actions[i] = static_cast<int64_t>((t + i) % 4);
      venv.step(actions);
      const auto* obs = static_cast<const float*>(venv.observations());
      all.insert(all.end(), obs, obs + 6 * 8);
    }
    return all;
  };
  CHECK(run(1) == run(2));
  CHECK(run(1) == run(3));
}
