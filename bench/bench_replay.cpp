// Replay storage throughput: adding vector-env steps and sampling batches, uniform and
// prioritized, for 8-float vector observations and 84x84 uint8 frames stacked by 4 (stored as
// one frame per step). Figures in docs/benchmarks.md ("Replay storage").
#include <benchmark/benchmark.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "rlforge/replay/prioritized_replay_buffer.h"
#include "rlforge/replay/replay_buffer.h"

namespace {

using namespace rlforge;

constexpr int64_t kVectorCapacity = 1000000;
constexpr int64_t kFrameCapacity = 50000;     // sampling: 354 MB per buffer
constexpr int64_t kFrameAddCapacity = 20000;  // adding: written around once before timing
constexpr int64_t kEpisode = 64;  // steps of the synthetic episodes

ReplayBufferConfig config_for(bool frames, int64_t num_envs) {
  ReplayBufferConfig c;
  c.num_envs = num_envs;
  c.n_step = 3;
  if (frames) {
    c.capacity = kFrameCapacity;
    c.observation_shape = {4, 84, 84};
    c.observation_dtype = torch::kUInt8;
    c.frame_stack = 4;
  } else {
    c.capacity = kVectorCapacity;
    c.observation_shape = {8};
  }
  return c;
}

// Observations of a synthetic episode, the same for every env: obs[t] for t in [0, kEpisode);
// frame stacks follow the FrameStack rule, so the buffer's check accepts them.
struct Episode {
  std::size_t obs_bytes = 0;
  int64_t num_envs = 1;
  std::vector<std::vector<unsigned char>> obs;  // [kEpisode][num_envs * obs_bytes]
  std::vector<int64_t> actions;
  std::vector<float> rewards;
  std::vector<uint8_t> zeros, ones;

  Episode(bool frames, int64_t envs) : num_envs(envs) {
    std::mt19937 rng(1);
    const std::size_t frame = frames ? 84 * 84 : 8 * sizeof(float);
    const int k = frames ? 4 : 1;
    obs_bytes = frame * static_cast<std::size_t>(k);
    std::vector<std::vector<unsigned char>> raw(kEpisode, std::vector<unsigned char>(frame));
    for (auto& f : raw) {
      if (frames) {
        for (auto& b : f) b = static_cast<unsigned char>(rng());
      } else {
        std::normal_distribution<float> normal;
        for (std::size_t i = 0; i < 8; ++i) {
          const float v = normal(rng);
          std::memcpy(f.data() + i * sizeof(float), &v, sizeof(float));
        }
      }
    }
    obs.resize(kEpisode);
    for (int64_t t = 0; t < kEpisode; ++t) {
      std::vector<unsigned char> one;
      for (int j = 0; j < k; ++j) {
        const auto& f = raw[static_cast<std::size_t>(std::max<int64_t>(0, t - (k - 1) + j))];
        one.insert(one.end(), f.begin(), f.end());
      }
      for (int64_t e = 0; e < envs; ++e) obs[static_cast<std::size_t>(t)].insert(obs[static_cast<std::size_t>(t)].end(), one.begin(), one.end());
    }
    actions.assign(static_cast<std::size_t>(envs), 1);
    rewards.assign(static_cast<std::size_t>(envs), 1.0f);
    zeros.assign(static_cast<std::size_t>(envs), 0);
    ones.assign(static_cast<std::size_t>(envs), 1);
  }

  // Step t of the stream (t >= 1): the last step of an episode terminates and restarts it.
  void add(ReplayBuffer& buffer, int64_t t) const {
    const int64_t s = t % (kEpisode - 1) + 1;
    if (s == kEpisode - 1) {
      buffer.add(actions.data(), rewards.data(), ones.data(), zeros.data(), obs[0].data(), obs[static_cast<std::size_t>(s)].data());
    } else {
      buffer.add(actions.data(), rewards.data(), zeros.data(), zeros.data(), obs[static_cast<std::size_t>(s)].data(), nullptr);
    }
  }
};

std::unique_ptr<ReplayBuffer> make_buffer(bool frames, bool prioritized, int64_t envs) {
  const ReplayBufferConfig c = config_for(frames, envs);
  if (prioritized) return std::make_unique<PrioritizedReplayBuffer>(c, PrioritizedReplayConfig{});
  return std::make_unique<ReplayBuffer>(c);
}

// range(0): 1 frames, 0 vectors; range(1): 1 prioritized; range(2): num_envs. Steady state: the
// rings have been written around once before timing (so no page is touched for the first time).
void BM_ReplayAdd(benchmark::State& state) {
  const bool frames = state.range(0) == 1, prioritized = state.range(1) == 1;
  const int64_t envs = state.range(2);
  ReplayBufferConfig c = config_for(frames, envs);
  if (frames) c.capacity = kFrameAddCapacity;
  std::unique_ptr<ReplayBuffer> buffer;
  if (prioritized) {
    buffer = std::make_unique<PrioritizedReplayBuffer>(c, PrioritizedReplayConfig{});
  } else {
    buffer = std::make_unique<ReplayBuffer>(c);
  }
  const Episode episode(frames, envs);
  buffer->observe_reset(episode.obs[0].data());
  int64_t t = 0;
  for (; t < buffer->slots_per_env() + 10; ++t) episode.add(*buffer, t);
  for (auto _ : state) episode.add(*buffer, t++);
  state.SetItemsProcessed(state.iterations() * envs);
  state.counters["bytes_per_transition"] =
      static_cast<double>(ReplayBuffer::memory_bytes(c)) / static_cast<double>(c.capacity);
}
BENCHMARK(BM_ReplayAdd)
    ->ArgsProduct({{0, 1}, {0, 1}, {1, 8}})
    ->ArgNames({"frames", "per", "envs"})
    ->Unit(benchmark::kNanosecond);

// The first pass through fresh memory: every frame written lands on pages the kernel has not
// given the process yet (the buffer's storage is committed as it is written).
void BM_ReplayAddFirstFill(benchmark::State& state) {
  ReplayBufferConfig c = config_for(true, 1);
  c.capacity = kFrameAddCapacity;
  ReplayBuffer buffer(c);
  const Episode episode(true, 1);
  buffer.observe_reset(episode.obs[0].data());
  int64_t t = 0;
  for (auto _ : state) episode.add(buffer, t++);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReplayAddFirstFill)->Iterations(kFrameAddCapacity - 100)->Unit(benchmark::kNanosecond);

// Full buffers, filled once per kind and kept for all batch sizes.
ReplayBuffer& full_buffer(bool frames, bool prioritized) {
  static std::map<std::pair<bool, bool>, std::unique_ptr<ReplayBuffer>> cache;
  auto& slot = cache[{frames, prioritized}];
  if (!slot) {
    slot = make_buffer(frames, prioritized, 1);
    const Episode episode(frames, 1);
    slot->observe_reset(episode.obs[0].data());
    const int64_t steps = config_for(frames, 1).capacity + 100;
    for (int64_t t = 0; t < steps; ++t) episode.add(*slot, t);
    if (prioritized) {
      // Spread priorities over four orders of magnitude.
      auto& per = static_cast<PrioritizedReplayBuffer&>(*slot);
      std::vector<int64_t> idx = per.valid_indices();
      std::vector<double> td(idx.size());
      std::mt19937 rng(2);
      std::uniform_real_distribution<double> u(-4.0, 0.0);
      for (auto& x : td) x = std::pow(10.0, u(rng));
      per.update_priorities(idx, td);
    }
  }
  return *slot;
}

// range(0): 1 frames; range(1): 1 prioritized; range(2): batch size.
void BM_ReplaySample(benchmark::State& state) {
  const bool frames = state.range(0) == 1, prioritized = state.range(1) == 1;
  ReplayBuffer& buffer = full_buffer(frames, prioritized);
  torch::Generator gen = at::detail::createCPUGenerator(3);
  for (auto _ : state) benchmark::DoNotOptimize(buffer.sample(state.range(2), gen));
  state.SetItemsProcessed(state.iterations() * state.range(2));
}
BENCHMARK(BM_ReplaySample)
    ->ArgsProduct({{0, 1}, {0, 1}, {32, 64, 256}})
    ->ArgNames({"frames", "per", "batch"})
    ->Unit(benchmark::kMicrosecond);

void BM_UpdatePriorities(benchmark::State& state) {
  auto& buffer = static_cast<PrioritizedReplayBuffer&>(full_buffer(false, true));
  torch::Generator gen = at::detail::createCPUGenerator(4);
  const ReplaySample s = buffer.sample(state.range(0), gen);
  const torch::Tensor td = torch::rand({state.range(0)});
  for (auto _ : state) buffer.update_priorities(s.indices, td);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UpdatePriorities)->Arg(32)->Arg(256)->ArgName("batch")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
