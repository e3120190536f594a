// Costs of the learning side on CPU: one PPO minibatch update (hand-derived gradient and
// autograd) and one batched action selection, at the sizes of the RL Zoo's CartPole config
// (8 envs x 32 steps, batch 256, separate 64-64 tanh actor and critic).
#include <benchmark/benchmark.h>

#include "rlforge/agents/ppo.h"
#include "rlforge/trainers/compute_threads.h"

namespace {

using namespace rlforge;

const EnvSpec& cartpole_like() {
  static const EnvSpec spec{"bench", Space::box({4}, -1.0f, 1.0f), Space::discrete(2), 0, {}};
  return spec;
}

// state.range(0): 1 hand-derived gradient, 0 autograd; state.range(1): minibatch size.
void BM_PpoMinibatch(benchmark::State& state) {
  set_compute_threads(1);
  PpoConfig c;
  c.manual_gradient = state.range(0) == 1;
  c.batch_size = state.range(1);
  c.n_epochs = 1;
  Ppo ppo(cartpole_like(), c, 1);
  torch::manual_seed(0);
  const int64_t n = c.batch_size;
  const RolloutBatch batch{torch::randn({n, 4}), torch::randint(0, 2, {n}, torch::kInt64),
                           torch::full({n}, std::log(0.5)), torch::randn({n}), torch::randn({n}), torch::randn({n})};
  for (auto _ : state) benchmark::DoNotOptimize(ppo.update(batch, 1.0));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_PpoMinibatch)->ArgsProduct({{1, 0}, {64, 256}})->ArgNames({"manual", "batch"})->Unit(benchmark::kMicrosecond);

void BM_PolicyAct(benchmark::State& state) {
  set_compute_threads(1);
  Ppo ppo(cartpole_like(), PpoConfig{}, 1);
  const torch::Tensor obs = torch::randn({state.range(0), 4});
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ppo.policy()->act(ppo.policy()->prepare(obs, false), false, ppo.generator()));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PolicyAct)->Arg(8)->Arg(64)->ArgName("envs")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
