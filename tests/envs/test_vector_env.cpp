// VectorEnv: seeding, same-step autoreset against single envs driven by hand, truncation,
// determinism across thread counts, wrappers from the config, and errors.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/envs/registry.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/envs/wrappers.h"

#include "env_test_helpers.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

VectorEnvConfig config(const std::string& id, int num_envs, int threads, Options options = {}) {
  VectorEnvConfig c;
  c.id = id;
  c.options = std::move(options);
  c.num_envs = num_envs;
  c.threads = threads;
  return c;
}

std::vector<float> row(const VectorEnv& v, const void* base, int i) {
  const std::size_t n = v.spec().observation_space.size();
  const auto* f = static_cast<const float*>(base) + static_cast<std::size_t>(i) * n;
  return std::vector<float>(f, f + n);
}

// Reference for one env of a vector env: a single env driven by hand with the same rules.
struct HandDriven {
  std::unique_ptr<Env> env;
  std::vector<float> obs;
  double running_return = 0.0;
  int64_t running_length = 0;
  int64_t limit = 0;

  HandDriven(const std::string& id, const Options& options, uint64_t seed) : env(make_env(id, options)) {
    obs.resize(env->spec().observation_space.size());
    limit = env->spec().max_episode_steps;
    env->reset(seed, obs.data());
  }

  struct Out {
    float reward;
    bool terminated, truncated;
    std::vector<float> obs, final_obs;
    double episode_return = 0.0;
    int64_t episode_length = 0;
  };

  Out step(ActionRef action) {
    Out out;
    const StepResult r = env->step(action, obs.data());
    running_return += r.reward;
    ++running_length;
    out.reward = static_cast<float>(r.reward);
    out.terminated = r.terminated;
    out.truncated = !r.terminated && running_length >= limit;
    if (out.terminated || out.truncated) {
      out.final_obs = obs;
      out.episode_return = running_return;
      out.episode_length = running_length;
      running_return = 0.0;
      running_length = 0;
      env->reset(std::nullopt, obs.data());
    }
    out.obs = obs;
    return out;
  }
};

// Everything a vector env produced in one step, as bytes, for bit-exact comparisons.
std::vector<unsigned char> snapshot(const VectorEnv& v) {
  const auto n = static_cast<std::size_t>(v.num_envs());
  std::vector<unsigned char> out;
  auto append = [&out](const void* p, std::size_t bytes) {
    const auto* b = static_cast<const unsigned char*>(p);
    out.insert(out.end(), b, b + bytes);
  };
  append(v.observations(), n * v.observation_bytes());
  append(v.rewards(), n * sizeof(float));
  append(v.terminated(), n);
  append(v.truncated(), n);
  // Rows of final_obs / episode totals mean something only where an episode ended.
  for (std::size_t i = 0; i < n; ++i) {
    if (v.terminated()[i] || v.truncated()[i]) {
      append(static_cast<const unsigned char*>(v.final_observations()) + i * v.observation_bytes(),
             v.observation_bytes());
      append(v.episode_returns() + i, sizeof(double));
      append(v.episode_lengths() + i, sizeof(int64_t));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("VectorEnv built from a config has the env's spec", "[vector]") {
  VectorEnv v(config("CartPole-v1", 4, 2));
  CHECK(v.num_envs() == 4);
  CHECK(v.threads() == 2);
  CHECK(v.spec().id == "CartPole-v1");
  CHECK(v.spec().max_episode_steps == 500);
  CHECK(v.spec().observation_space == make_env("CartPole-v1")->spec().observation_space);
  CHECK(v.observation_bytes() == 16);
  CHECK(v.env(3).id() == "CartPole-v1");
  CHECK_THROWS(v.env(4));
}

TEST_CASE("VectorEnv seeds env i with seed + i", "[vector][seeding]") {
  const int n = 5;
  VectorEnv v(config("Pendulum-v1", n, 2));
  v.reset(1000);
  for (int i = 0; i < n; ++i) {
    auto single = make_env("Pendulum-v1");
    std::vector<float> obs(3);
    single->reset(1000 + static_cast<uint64_t>(i), obs.data());
    CHECK(row(v, v.observations_f32(), i) == obs);
  }
  // Reset clears the step outputs.
  for (int i = 0; i < n; ++i) {
    CHECK(v.rewards()[i] == 0.0f);
    CHECK(v.terminated()[i] == 0);
    CHECK(v.truncated()[i] == 0);
  }

  // Explicit seeds per env.
  const std::vector<uint64_t> seeds = {9, 3, 3, 77, 0};
  v.reset(seeds);
  for (int i = 0; i < n; ++i) {
    auto single = make_env("Pendulum-v1");
    std::vector<float> obs(3);
    single->reset(seeds[static_cast<std::size_t>(i)], obs.data());
    CHECK(row(v, v.observations_f32(), i) == obs);
  }
  CHECK(row(v, v.observations_f32(), 1) == row(v, v.observations_f32(), 2));
}

TEST_CASE("VectorEnv same-step autoreset matches single envs driven by hand", "[vector][autoreset]") {
  const int n = 4;
  VectorEnv v(config("CartPole-v1", n, 2));
  v.reset(7);
  std::vector<HandDriven> ref;
  for (int i = 0; i < n; ++i) ref.emplace_back("CartPole-v1", Options{}, 7 + static_cast<uint64_t>(i));

  int episodes_ended = 0;
  for (int t = 0; t < 120; ++t) {
    // Env i pushes one way for a while, then the other; each env with its own pattern.
    std::vector<int64_t> actions(n);
    for (int i = 0; i < n; ++i) actions[static_cast<std::size_t>(i)] = ((t + 3 * i) / (4 + i)) % 2;
    v.step(actions);
    for (int i = 0; i < n; ++i) {
      INFO("step " << t << ", env " << i);
      const auto expected = ref[static_cast<std::size_t>(i)].step(
          ActionRef::discrete(actions[static_cast<std::size_t>(i)]));
      REQUIRE(row(v, v.observations_f32(), i) == expected.obs);
      REQUIRE(v.rewards()[i] == expected.reward);
      REQUIRE(static_cast<bool>(v.terminated()[i]) == expected.terminated);
      REQUIRE(static_cast<bool>(v.truncated()[i]) == expected.truncated);
      if (expected.terminated || expected.truncated) {
        ++episodes_ended;
        // obs holds the new episode's first observation, final_obs the last one of the old.
        REQUIRE(row(v, v.final_observations(), i) == expected.final_obs);
        REQUIRE(row(v, v.final_observations(), i) != expected.obs);
        REQUIRE(v.episode_returns()[i] == expected.episode_return);
        REQUIRE(v.episode_lengths()[i] == expected.episode_length);
        // CartPole: +1 per step, so the return is the length.
        REQUIRE(v.episode_returns()[i] == static_cast<double>(v.episode_lengths()[i]));
      }
    }
  }
  CHECK(episodes_ended >= n);  // every env went through at least one autoreset
}

TEST_CASE("VectorEnv truncates at max_episode_steps", "[vector][autoreset]") {
  const int n = 3;
  const Options options{{"max_episode_steps", int64_t{5}}};
  VectorEnv v(config("Pendulum-v1", n, 3, options));
  CHECK(v.spec().max_episode_steps == 5);
  v.reset(21);
  std::vector<HandDriven> ref;
  for (int i = 0; i < n; ++i) ref.emplace_back("Pendulum-v1", options, 21 + static_cast<uint64_t>(i));

  for (int t = 1; t <= 12; ++t) {
    std::vector<float> actions(n);
    for (int i = 0; i < n; ++i) actions[static_cast<std::size_t>(i)] = 0.5f * static_cast<float>(i) - 0.4f * t;
    v.step(actions);
    const bool at_limit = t % 5 == 0;
    for (int i = 0; i < n; ++i) {
      INFO("step " << t << ", env " << i);
      const auto expected =
          ref[static_cast<std::size_t>(i)].step(ActionRef::box(&actions[static_cast<std::size_t>(i)], 1));
      CHECK(v.truncated()[i] == at_limit);
      CHECK(v.terminated()[i] == 0);
      CHECK(expected.truncated == at_limit);
      CHECK(row(v, v.observations_f32(), i) == expected.obs);
      CHECK(v.rewards()[i] == expected.reward);
      if (at_limit) {
        CHECK(v.episode_lengths()[i] == 5);
        CHECK(v.episode_returns()[i] == expected.episode_return);
        CHECK(row(v, v.final_observations(), i) == expected.final_obs);
      }
    }
  }
}

TEST_CASE("VectorEnv outputs are bit-identical for 1, 2 and 4 threads", "[vector][threads]") {
  for (const std::string id : {"CartPole-v1", "Pendulum-v1"}) {
    INFO(id);
    // Pendulum gets a short limit so that truncations and autoresets happen.
    const Options options = id == "Pendulum-v1" ? Options{{"max_episode_steps", int64_t{37}}}
                                                : Options{};
    std::vector<std::vector<unsigned char>> runs;
    std::vector<int> threads_used;
    int episodes_ended = 0;
    for (int threads : {1, 2, 4}) {
      VectorEnv v(config(id, 16, threads, options));
      threads_used.push_back(v.threads());
      v.reset(123);
      std::vector<unsigned char> trace = snapshot(v);
      NumpyGenerator action_rng(5);  // the same actions for every thread count
      const Space& a = v.spec().action_space;
      std::vector<unsigned char> actions(16 * a.byte_size());
      for (int t = 0; t < 200; ++t) {
        for (int i = 0; i < 16; ++i) a.sample(action_rng, actions.data() + static_cast<std::size_t>(i) * a.byte_size());
        v.step(ActionRef{actions.data(), a.dtype(), 16 * a.size()});
        const auto s = snapshot(v);
        trace.insert(trace.end(), s.begin(), s.end());
        if (threads == 1) {
          for (int i = 0; i < 16; ++i) episodes_ended += v.terminated()[i] || v.truncated()[i];
        }
      }
      runs.push_back(std::move(trace));
    }
    CHECK(threads_used == std::vector<int>{1, 2, 4});
    CHECK(episodes_ended > 16);
    REQUIRE(runs[0].size() == runs[1].size());
    REQUIRE(runs[0].size() == runs[2].size());
    CHECK(std::memcmp(runs[0].data(), runs[1].data(), runs[0].size()) == 0);
    CHECK(std::memcmp(runs[0].data(), runs[2].data(), runs[0].size()) == 0);
  }
}

TEST_CASE("VectorEnv clamps threads to num_envs", "[vector][threads]") {
  VectorEnv v(config("CartPole-v1", 3, 8));
  CHECK(v.threads() == 3);
  v.reset(0);
  CHECK_NOTHROW(v.step(std::vector<int64_t>{0, 1, 0}));
  VectorEnv one(config("CartPole-v1", 1, 16));
  CHECK(one.threads() == 1);
  CHECK_THROWS_WITH(VectorEnv(config("CartPole-v1", 2, 0)), Catch::Contains("threads >= 1"));
}

TEST_CASE("VectorEnv applies the config's wrappers", "[vector][wrappers]") {
  VectorEnvConfig c = config("CartPole-v1", 2, 2);
  c.wrappers = {{"FrameStack", {{"num_stack", int64_t{3}}}}};
  VectorEnv v(c);
  CHECK(v.spec().observation_space.shape() == std::vector<int64_t>{3, 4});
  CHECK(v.observation_bytes() == 3 * 4 * sizeof(float));
  CHECK(dynamic_cast<FrameStack*>(&v.env(0)) != nullptr);
  v.reset(50);
  auto single = make_env("CartPole-v1");
  std::vector<float> first(4);
  single->reset(51, first.data());
  const std::vector<float> stacked = row(v, v.observations_f32(), 1);
  REQUIRE(stacked.size() == 12);
  for (int k = 0; k < 3; ++k) {
    CHECK(std::vector<float>(stacked.begin() + 4 * k, stacked.begin() + 4 * k + 4) == first);
  }
  v.step(std::vector<int64_t>{1, 1});
  std::vector<float> next(4);
  single->step(int64_t{1}, next.data());
  const std::vector<float> after = row(v, v.observations_f32(), 1);
  CHECK(std::vector<float>(after.begin() + 8, after.end()) == next);
  CHECK(std::vector<float>(after.begin() + 4, after.begin() + 8) == first);

  // Several wrappers, applied in order.
  VectorEnvConfig p = config("Pendulum-v1", 2, 1);
  p.wrappers = {{"RescaleAction", {{"min_action", 0.0}, {"max_action", 1.0}}},
                {"TimeLimit", {{"max_episode_steps", int64_t{3}}}}};
  VectorEnv pv(p);
  CHECK(pv.spec().action_space == Space::box({1}, 0.0f, 1.0f));
  CHECK(pv.spec().max_episode_steps == 3);

  VectorEnvConfig bad = config("CartPole-v1", 2, 1);
  bad.wrappers = {{"ClipAction", {}}};
  CHECK_THROWS_WITH(VectorEnv(bad), Catch::Contains("ClipAction") && Catch::Contains("Discrete(2)"));
}

TEST_CASE("VectorEnv call-order and action errors", "[vector][errors]") {
  VectorEnv v(config("CartPole-v1", 4, 2));
  CHECK_THROWS_WITH(v.step(std::vector<int64_t>{0, 0, 0, 0}),
                    Catch::Contains("CartPole-v1") && Catch::Contains("before reset()"));
  v.reset(0);

  const std::string count = error_of([&] { v.step(std::vector<int64_t>{0, 1, 0}); });
  CHECK_THAT(count, Catch::Contains("expects 4 int64") && Catch::Contains("got 3 int64") &&
                        Catch::Contains("Discrete(2)"));
  const std::string dtype = error_of([&] { v.step(std::vector<float>{0, 1, 0, 1}); });
  CHECK_THAT(dtype, Catch::Contains("expects 4 int64") && Catch::Contains("got 4 float32"));
  CHECK_THROWS_AS(v.step(ActionRef{nullptr, DType::Int64, 4}), EnvError);

  VectorEnv pv(config("Pendulum-v1", 2, 1));
  pv.reset(0);
  CHECK_THROWS_WITH(pv.step(std::vector<int64_t>{0, 0}), Catch::Contains("float32"));
  CHECK_THROWS_AS(pv.step(std::vector<float>{0.0f}), EnvError);
}

TEST_CASE("a bad action in the batch names the env and changes nothing", "[vector][errors]") {
  SECTION("discrete") {
    VectorEnv v(config("CartPole-v1", 4, 2)), clean(config("CartPole-v1", 4, 2));
    v.reset(3);
    clean.reset(3);
    v.step(std::vector<int64_t>{1, 0, 1, 0});
    clean.step(std::vector<int64_t>{1, 0, 1, 0});
    const auto before = snapshot(v);

    const std::string msg = error_of([&] { v.step(std::vector<int64_t>{0, 1, 2, 0}); });
    CHECK_THAT(msg, Catch::Contains("env 2 of 4") && Catch::Contains("CartPole-v1") &&
                        Catch::Contains("Discrete(2)") && Catch::Contains("action 2"));
    CHECK(snapshot(v) == before);  // outputs untouched

    // Only env 3 is bad here, after good envs 0..2: still nothing stepped.
    CHECK_THAT(error_of([&] { v.step(std::vector<int64_t>{0, 1, 1, -1}); }),
               Catch::Contains("env 3 of 4"));

    for (int t = 0; t < 30; ++t) {
      const std::vector<int64_t> a = {t % 2, 1, (t / 2) % 2, 0};
      v.step(a);
      clean.step(a);
      REQUIRE(snapshot(v) == snapshot(clean));
    }
  }
  SECTION("continuous") {
    VectorEnv v(config("Pendulum-v1", 3, 3)), clean(config("Pendulum-v1", 3, 3));
    v.reset(8);
    clean.reset(8);
    const std::string msg =
        error_of([&] { v.step(std::vector<float>{0.0f, 0.0f, std::nanf("")}); });
    CHECK_THAT(msg, Catch::Contains("env 2 of 3") && Catch::Contains("Pendulum-v1") &&
                        Catch::Contains("Box(-2.0, 2.0, (1,), float32)"));
    for (int t = 0; t < 10; ++t) {
      const std::vector<float> a = {0.1f * t, -1.0f, 3.0f};  // 3.0 is clipped, not refused
      v.step(a);
      clean.step(a);
      REQUIRE(snapshot(v) == snapshot(clean));
    }
  }
}

TEST_CASE("VectorEnv construction and reset errors", "[vector][errors]") {
  CHECK_THROWS_WITH(VectorEnv(config("CartPole-v1", 0, 1)), Catch::Contains("num_envs >= 1"));
  CHECK_THROWS_AS(VectorEnv(config("CartPole-v1", -2, 1)), EnvError);
  CHECK_THROWS_WITH(VectorEnv(config("NoSuchEnv-v0", 2, 1)), Catch::Contains("unknown environment id"));

  VectorEnv v(config("CartPole-v1", 3, 1));
  CHECK_THROWS_WITH(v.reset(std::vector<uint64_t>{1, 2}), Catch::Contains("2 seeds for 3 envs"));
  CHECK_THROWS_AS(v.reset(std::vector<uint64_t>{1, 2, 3, 4}), EnvError);
  // A refused reset leaves the vector env unreset.
  CHECK_THROWS_AS(v.step(std::vector<int64_t>{0, 0, 0}), EnvError);
}

TEST_CASE("VectorEnv from a factory checks the envs it gets", "[vector][errors]") {
  SECTION("envs must share their spaces") {
    const auto mixed = [](int i) { return make_env(i == 1 ? "MountainCar-v0" : "CartPole-v1"); };
    CHECK_THROWS_WITH(VectorEnv(mixed, 3, 1),
                      Catch::Contains("env 1") && Catch::Contains("MountainCar-v0") &&
                          Catch::Contains("other spaces"));
  }
  SECTION("the factory must return an env") {
    const auto null_at_2 = [](int i) { return i == 2 ? nullptr : make_env("CartPole-v1"); };
    CHECK_THROWS_WITH(VectorEnv(null_at_2, 3, 1), Catch::Contains("index 2"));
  }
  SECTION("a factory can vary options that keep the spaces") {
    const auto varied = [](int i) {
      return make_env("Pendulum-v1", {{"g", 5.0 + i}});
    };
    VectorEnv v(varied, 2, 2);
    v.reset(0);
    CHECK_NOTHROW(v.step(std::vector<float>{0.0f, 0.0f}));
  }
}

// The episode limit is enforced inside the wrapper stack (make_env adds a TimeLimit), so wrappers
// from the config see truncations: EpisodeStatistics records episodes ended by the time limit.
TEST_CASE("EpisodeStatistics inside a VectorEnv records episodes truncated by the time limit",
          "[vector][wrappers]") {
  VectorEnvConfig c = config("Pendulum-v1", 1, 1, {{"max_episode_steps", int64_t{3}}});
  c.wrappers = {{"EpisodeStatistics", {}}};
  VectorEnv v(c);
  v.reset(0);
  for (int t = 0; t < 3; ++t) v.step(std::vector<float>{0.0f});
  REQUIRE(v.truncated()[0] == 1);
  const auto& stats = dynamic_cast<EpisodeStatistics&>(v.env(0));
  CHECK(stats.episodes_finished() == 1);
}

TEST_CASE("a failed vector env reset leaves it needing a reset", "[vector][errors]") {
  // An env whose reset throws for one particular seed.
  struct PickyEnv final : Env {
    PickyEnv() : Env(EnvSpec{"test/Picky-v0", Space::box({1}, -1.0f, 1.0f), Space::discrete(2), 10, {}}) {}
    void reset_impl(std::optional<uint64_t> seed, void* obs) override {
      if (seed && *seed == 13) throw EnvError("seed 13 is unlucky");
      static_cast<float*>(obs)[0] = 0.0f;
    }
    StepResult step_impl(const void*, void* obs) override {
      static_cast<float*>(obs)[0] = 0.5f;
      return {1.0, false, false};
    }
  };
  VectorEnv venv([](int) { return std::make_unique<PickyEnv>(); }, 4, 2);
  venv.reset(0);
  const std::string message = error_of([&] { venv.reset(10); });  // env 3 gets seed 13
  CHECK_THAT(message, Catch::Contains("test/Picky-v0 (env 3 of 4)") && Catch::Contains("seed 13 is unlucky"));
  CHECK_THAT(error_of([&] { venv.step(std::vector<int64_t>(4, 0)); }), Catch::Contains("before reset"));
  venv.reset(20);
  CHECK_NOTHROW(venv.step(std::vector<int64_t>(4, 0)));
}

TEST_CASE("out-of-range integer wrapper options are refused, not narrowed", "[wrappers][errors]") {
  CHECK_THAT(error_of([] { wrap_env(make_env("CartPole-v1"), {"FrameStack", {{"num_stack", int64_t{4294967297}}}}); }),
             Catch::Contains("option 'num_stack' is out of range"));
  CHECK_THAT(error_of([] { wrap_env(make_env("Pendulum-v1"), {"NormalizeObservation", {{"epsilon", -1.0}}}); }),
             Catch::Contains("epsilon > 0"));
}
