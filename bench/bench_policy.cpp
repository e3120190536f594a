// The cost of acting with an exported policy (rlforge::Policy) against LibTorch's own forward
// passes: the same weights as the agent's nn::Module act() and as the TorchScript module called
// directly. MLP: PPO's 64x64 tanh policy on LunarLander-v3; CNN: PPO's Nature CNN on CarRacing-v3.
// Single observations (latency) and batches of 256 (throughput; items/s are observations).

#include <benchmark/benchmark.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>

#include "rlforge/envs/vector_env.h"
#include "rlforge/evaluation/env_tensors.h"
#include "rlforge/export/policy_export.h"
#include "rlforge/inference/policy.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/config.h"

namespace fs = std::filesystem;
using namespace rlforge;

namespace {

struct Subject {
  std::unique_ptr<Agent> agent;
  std::string file;
  torch::Tensor observations;  // [256, ...] from the env's first reset, repeated with noise
};

Subject& subject(const std::string& config_name) {
  static std::map<std::string, Subject> subjects;
  auto it = subjects.find(config_name);
  if (it != subjects.end()) return it->second;
  const ExperimentConfig config = load_config(std::string(RLFORGE_SOURCE_DIR) + "/configs/" + config_name);
  std::unique_ptr<Env> env = make_configured_env(config.env);
  const EnvSpec spec = env->spec();
  Subject s;
  s.agent = make_agent(config, spec, 1, torch::kCPU);
  const InferenceGraph graph = s.agent->inference_graph({});
  s.file = (fs::temp_directory_path() / ("rlforge_bench_" + config_name + ".pt")).string();
  write_export(graph, ExportFormat::torchscript, s.file, export_metadata(graph, {}));
  std::vector<int64_t> shape{256};
  shape.insert(shape.end(), spec.observation_space.shape().begin(), spec.observation_space.shape().end());
  s.observations = torch::empty(shape, torch_dtype(spec.observation_space.dtype()));
  const std::size_t row = spec.observation_space.byte_size();
  for (int64_t i = 0; i < 256; ++i) env->reset(static_cast<uint64_t>(i), static_cast<uint8_t*>(s.observations.data_ptr()) + i * row);
  return subjects.emplace(config_name, std::move(s)).first->second;
}

const char* config_of(int64_t network) { return network == 0 ? "ppo_lunarlander.yaml" : "ppo_carracing.yaml"; }
const char* label_of(int64_t network) { return network == 0 ? "mlp" : "cnn"; }

void BM_PolicyAct(benchmark::State& state) {
  Subject& s = subject(config_of(state.range(0)));
  const Policy policy = Policy::load(s.file);
  const int64_t batch = state.range(1);
  std::vector<uint8_t> actions(static_cast<std::size_t>(batch * policy.action_size()) * 8);
  for (auto _ : state) {
    policy.act_batch(s.observations.data_ptr(), batch, actions.data());
    benchmark::DoNotOptimize(actions.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(label_of(state.range(0)));
}

void BM_TorchScriptForward(benchmark::State& state) {
  Subject& s = subject(config_of(state.range(0)));
  torch::jit::Module module = torch::jit::load(s.file);
  const torch::Tensor input = s.observations.narrow(0, 0, state.range(1));
  for (auto _ : state) {
    const c10::InferenceMode inference;
    benchmark::DoNotOptimize(module.forward({input}).toTensor().data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * state.range(1));
  state.SetLabel(label_of(state.range(0)));
}

void BM_AgentAct(benchmark::State& state) {
  Subject& s = subject(config_of(state.range(0)));
  const torch::Tensor input = s.observations.narrow(0, 0, state.range(1));
  torch::Generator generator = at::detail::createCPUGenerator(0);
  for (auto _ : state) {
    torch::NoGradGuard no_grad;
    benchmark::DoNotOptimize(s.agent->act(input, true, generator).data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * state.range(1));
  state.SetLabel(label_of(state.range(0)));
}

void arguments(benchmark::internal::Benchmark* b) {
  b->Args({0, 1})->Args({0, 256})->Args({1, 1})->Args({1, 256});
}

}  // namespace

BENCHMARK(BM_PolicyAct)->Apply(arguments);
BENCHMARK(BM_TorchScriptForward)->Apply(arguments);
BENCHMARK(BM_AgentAct)->Apply(arguments);

BENCHMARK_MAIN();
