// Costs of the learning side on CPU: one PPO minibatch update (hand-derived gradient and
// autograd) and one batched action selection, at the sizes of the RL Zoo's CartPole config
// (8 envs x 32 steps, batch 256, separate 64-64 tanh actor and critic).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include "rlforge/agents/flat_parameters.h"
#include "rlforge/agents/off_policy.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/worker_pool.h"
#include "rlforge/replay/replay_buffer.h"
#include "rlforge/trainers/compute_threads.h"

namespace {

using namespace rlforge;

// The malloc settings of rlforge's main (keep_freed_memory_mapped, app/blas_environment.cpp):
// without them every large temporary is a fresh mapping faulted in page by page.
const bool kMallocTuned = [] {
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}();

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

// One off-policy gradient step (batch 256): state.range(0) 0 SAC, 1 TD3 (an actor update every
// second step), 2 TQC (25 quantiles per critic), each at the RL Zoo's Pendulum sizes (3
// observations, 1 action; SAC and TQC 256-256, TD3 400-300), and 3 TQC at
// tqc_bipedalwalker_hardcore.yaml's sizes (24 observations, 4 actions, 400-300);
// state.range(1) the critics' threads (agent.critic_threads), with
// one LibTorch and one OpenBLAS thread (two of those are 3x slower than one on this 2-core
// machine: their two thread pools contend). The GFLOP/s counter is the
// step's arithmetic (the matrix products of every forward and backward pass it needs) over its
// time, to set beside BM_Sgemm's rate.
void BM_OffPolicyGradientStep(benchmark::State& state) {
  static const char* kAlgos[] = {"sac", "td3", "tqc", "tqc"};
  const bool hardcore = state.range(0) == 3;
  const int64_t obs_dim = hardcore ? 24 : 3, act_dim = hardcore ? 4 : 1;
  set_compute_threads(1);
  OffPolicyConfig c = OffPolicyConfig::defaults(kAlgos[state.range(0)]);
  c.critic_threads = state.range(1);
  if (hardcore) c.pi = c.qf = {400, 300};
  const EnvSpec spec{
      "bench", Space::box({obs_dim}, -8.0f, 8.0f), Space::box({act_dim}, -1.0f, 1.0f), 0, {}};
  OffPolicyAgent agent(spec, c, 1);
  torch::manual_seed(0);
  const int64_t b = c.batch_size;
  ReplaySample batch;
  batch.observations = torch::randn({b, obs_dim});
  batch.next_observations = torch::randn({b, obs_dim});
  batch.actions = torch::rand({b, act_dim}) * 2 - 1;
  batch.rewards = torch::randn({b});
  batch.discounts = torch::full({b}, 0.99f);
  OffPolicyMetrics m;
  for (auto _ : state) agent.gradient_step(batch, m);
  // Multiply-adds per sample of one pass through a network, then passes per step: SAC/TQC run
  // the actor 2x forward + backward (2 passes) and the critics 3x forward (target, current,
  // actor's loss) + backward of the current (2) + input gradient of the actor's (1); TD3 the
  // critics 3x forward + 2 backward, the actor's loss on critic 1 every second step.
  auto macs = [](int64_t in, const std::vector<int64_t>& hidden, int64_t out) {
    int64_t total = 0, width = in;
    for (const int64_t h : hidden) total += width * h, width = h;
    return total + width * out;
  };
  const double n = static_cast<double>(c.n_critics);
  const double actor =
      static_cast<double>(macs(obs_dim, c.pi, (c.entropy_regularised() ? 2 : 1) * act_dim));
  const double critic =
      static_cast<double>(macs(obs_dim + act_dim, c.qf, c.distributional() ? c.n_quantiles : 1));
  double passes = 0;
  if (c.entropy_regularised()) {
    passes = actor * (2 + 2) + critic * n * (3 + 2 + 1);
  } else {
    passes = actor * 2 + critic * n * (2 + 2) + 0.5 * (actor * 3 + critic * 2);
  }
  const double flops = 2.0 * passes * static_cast<double>(b);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MFLOP"] = flops * 1e-6;
}
BENCHMARK(BM_OffPolicyGradientStep)
    ->ArgsProduct({{0, 1, 2, 3}, {1, 2}})
    ->ArgNames({"algo", "critic_threads"})
    ->Unit(benchmark::kMicrosecond);

// TQC's quantile Huber loss and its gradient alone, at the RL Zoo's sizes: 2 critics of 25
// quantiles, batch 256, 46 target atoms (50 less the top 2 per critic), one thread.
void BM_QuantileHuberBackward(benchmark::State& state) {
  set_compute_threads(1);
  torch::manual_seed(0);
  const torch::Tensor quantiles = torch::randn({2, 256, 25}) * 3;
  const torch::Tensor targets = torch::randn({256, 46}) * 3;
  torch::Tensor grad;
  for (auto _ : state)
    benchmark::DoNotOptimize(quantile_huber_loss_backward(quantiles, targets, grad));
  state.SetItemsProcessed(state.iterations() * 2 * 256 * 25 * 46);
}
BENCHMARK(BM_QuantileHuberBackward)->Unit(benchmark::kMicrosecond);

// The flat-parameter Adam pass over TQC's twin 400-300 critics at Hardcore's sizes (278,850
// parameters), on state.range(0) threads: bound by memory (parameters, gradients and two
// moments: 4.5 MB read per step). state.range(1): 0 ordinary moments; 1 denormal moments with
// zero gradients (a quiet parameter's, long after its gradient stopped), which the pass flushes
// to zero (agents/denormals.h; under IEEE arithmetic this case took 24x as long).
void BM_FlatAdamStep(benchmark::State& state) {
  set_compute_threads(1);
  torch::manual_seed(0);
  FlatParameters flat({torch::randn({278'850}).requires_grad_(true)});
  torch::optim::Adam adam({flat.data()}, torch::optim::AdamOptions(7.3e-4));
  WorkerPool pool(static_cast<int>(state.range(0)));
  const bool denormal = state.range(1) == 1;
  flat.grad().copy_(torch::randn_like(flat.grad()) * 1e-3);
  adam_step(flat, adam, 1.0f, &pool);  // creates Adam's state
  auto& moments = static_cast<torch::optim::AdamParamState&>(
      *adam.state().at(c10::guts::to_string(flat.data().unsafeGetTensorImpl())));
  if (denormal) flat.grad().zero_();
  for (auto _ : state) {
    if (denormal) {  // the pass flushes them: put them back each time
      state.PauseTiming();
      moments.exp_avg().fill_(1e-39f);
      moments.exp_avg_sq().fill_(1e-39f);
      state.ResumeTiming();
    }
    adam_step(flat, adam, 1.0f, &pool);
  }
  state.SetItemsProcessed(state.iterations() * flat.data().numel());
}
BENCHMARK(BM_FlatAdamStep)
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->ArgNames({"threads", "denormal"})
    ->Unit(benchmark::kMicrosecond);

// The machine's float matrix-product rate at the sizes of those networks: [256, n] x [n, n].
void BM_Sgemm(benchmark::State& state) {
  set_compute_threads(static_cast<int>(state.range(1)));
  const int64_t n = state.range(0);
  const torch::Tensor a = torch::randn({256, n}), w = torch::randn({n, n});
  torch::Tensor out = torch::empty({256, n});
  for (auto _ : state) torch::mm_out(out, a, w);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 256 * n * n * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Sgemm)->ArgsProduct({{256, 400}, {1, 2}})->ArgNames({"n", "threads"})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
