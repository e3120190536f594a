// Env stepping throughput: one env stepped directly, and the vector env with N envs on T threads.
// Actions are uniformly random and drawn inside the timed loop, as in the Gymnasium figures
// (`env.step(env.action_space.sample())` in a Python loop) that docs/benchmarks.md compares with.
//
//   build/bench/rlforge_bench_envs --benchmark_filter=CartPole
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "rlforge/envs/numpy_random.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/rng.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/envs/worker_pool.h"

using namespace rlforge;

namespace {

void set_counters(benchmark::State& state, int64_t steps_per_iteration) {
  state.SetItemsProcessed(state.iterations() * steps_per_iteration);
}

void single_env_step(benchmark::State& state, const std::string& id, const Options& options) {
  auto env = make_env(id, options);
  const Space& action_space = env->spec().action_space;
  const int64_t limit = env->spec().max_episode_steps;
  std::vector<unsigned char> obs(env->spec().observation_space.byte_size());
  std::vector<unsigned char> action(action_space.byte_size());
  const ActionRef ref{action.data(), action_space.dtype(), action_space.size()};
  NumpyGenerator rng(1);
  env->reset(0, obs.data());
  int64_t length = 0;
  for (auto _ : state) {
    action_space.sample(rng, action.data());
    const StepResult r = env->step(ref, obs.data());
    if (r.terminated || ++length >= limit) {
      env->reset(std::nullopt, obs.data());
      length = 0;
    }
    benchmark::DoNotOptimize(obs.data());
  }
  set_counters(state, 1);
}

void vector_env_step(benchmark::State& state, const std::string& id) {
  const int num_envs = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  VectorEnv venv(VectorEnvConfig{id, {}, {}, num_envs, threads});
  const Space& action_space = venv.spec().action_space;
  std::vector<unsigned char> actions(action_space.byte_size() * static_cast<std::size_t>(num_envs));
  const ActionRef batch{actions.data(), action_space.dtype(), action_space.size() * static_cast<std::size_t>(num_envs)};
  NumpyGenerator rng(1);
  venv.reset(0);
  for (auto _ : state) {
    action_space.sample_batch(rng, actions.data(), static_cast<std::size_t>(num_envs));
    venv.step(batch);
    benchmark::DoNotOptimize(venv.observations());
  }
  set_counters(state, num_envs);
}

// The fixed cost of one parallel step: hand a task to the workers and wait for all of them.
void worker_pool_round_trip(benchmark::State& state) {
  WorkerPool pool(static_cast<int>(state.range(0)));
  std::vector<int> items(static_cast<std::size_t>(state.range(1)), 0);
  for (auto _ : state) {
    pool.run_ranges(static_cast<int>(items.size()),
                    [](void* ctx, int begin, int end) {
                      for (int i = begin; i < end; ++i) ++static_cast<int*>(ctx)[i];
                    },
                    items.data());
  }
  benchmark::DoNotOptimize(items.data());
}

// The draws envs make, from today's generator and from the NumPy-compatible one (Gymnasium parity).
template <class Generator>
void generator_uniform(benchmark::State& state) {
  Generator g(42);
  double sum = 0;
  for (auto _ : state) sum += g.uniform(-0.05, 0.05);
  benchmark::DoNotOptimize(sum);
}

void rng_below(benchmark::State& state) {
  Rng g(42);
  uint64_t sum = 0;
  for (auto _ : state) sum += g.below(4);
  benchmark::DoNotOptimize(sum);
}

void numpy_integers(benchmark::State& state) {
  NumpyGenerator g(42);
  int64_t sum = 0;
  for (auto _ : state) sum += g.integers(0, 4);
  benchmark::DoNotOptimize(sum);
}

// NumPy's ziggurat normal and exponential (Space::sample's unbounded Box elements), and the
// Box-Muller normal the perturbation wrappers draw.
void numpy_standard_normal(benchmark::State& state) {
  NumpyGenerator g(42);
  double sum = 0;
  for (auto _ : state) sum += g.standard_normal();
  benchmark::DoNotOptimize(sum);
}

void numpy_standard_exponential(benchmark::State& state) {
  NumpyGenerator g(42);
  double sum = 0;
  for (auto _ : state) sum += g.standard_exponential();
  benchmark::DoNotOptimize(sum);
}

void box_muller(benchmark::State& state) {
  NumpyGenerator g(42);
  double sum = 0;
  for (auto _ : state) sum += box_muller_normal(g);
  benchmark::DoNotOptimize(sum);
}

void numpy_seed(benchmark::State& state) {
  uint64_t seed = 0;
  for (auto _ : state) {
    NumpyGenerator g(seed++);
    benchmark::DoNotOptimize(g);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const std::string& id : env_registry().ids()) {
    benchmark::RegisterBenchmark(("EnvStep/" + id).c_str(), single_env_step, id, Options{});
    benchmark::RegisterBenchmark(("VectorEnvStep/" + id).c_str(), vector_env_step, id)
        ->ArgNames({"num_envs", "threads"})
        ->Args({1, 1})
        ->Args({64, 1})
        ->Args({64, 2})
        ->Args({256, 1})
        ->Args({256, 2})
        ->UseRealTime();
  }
  // CarRacing's observation drawn directly at 96x96 instead of Gymnasium's way (EnvStep/CarRacing-v3).
  benchmark::RegisterBenchmark("EnvStep/CarRacing-v3/observation_render:fast", single_env_step, "CarRacing-v3",
                               Options{{"observation_render", std::string("fast")}});
  benchmark::RegisterBenchmark("WorkerPoolRoundTrip", worker_pool_round_trip)
      ->ArgNames({"threads", "items"})
      ->Args({2, 2})
      ->Args({2, 64})
      ->Args({2, 256})
      ->UseRealTime();
  benchmark::RegisterBenchmark("Generator/Rng/uniform", generator_uniform<Rng>);
  benchmark::RegisterBenchmark("Generator/Numpy/uniform", generator_uniform<NumpyGenerator>);
  benchmark::RegisterBenchmark("Generator/Rng/below(4)", rng_below);
  benchmark::RegisterBenchmark("Generator/Numpy/integers(0,4)", numpy_integers);
  benchmark::RegisterBenchmark("Generator/Numpy/standard_normal", numpy_standard_normal);
  benchmark::RegisterBenchmark("Generator/Numpy/standard_exponential", numpy_standard_exponential);
  benchmark::RegisterBenchmark("Generator/Numpy/box_muller_normal", box_muller);
  benchmark::RegisterBenchmark("Generator/Numpy/seed", numpy_seed);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
