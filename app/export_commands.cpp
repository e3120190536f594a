#include "export_commands.h"

#include <torch/script.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_errors.h"
#include "env_commands.h"
#include "loaded_agent.h"
#include "rlforge/envs/seeds.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/evaluation/env_tensors.h"
#include "rlforge/export/policy_export.h"
#include "rlforge/trainers/config.h"
#include "rlforge/trainers/supervised_data.h"
#include "rlforge/trainers/trainer.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

struct ExportArgs {
  std::string target, format = "torchscript", out;
  bool value = false, distribution = false;
  int64_t check_observations = 1000;
  std::vector<std::string> plugins;
};

// Observations the policy meets: its own deterministic episodes on held-out seeds, or, for a
// model trained on a table, standard normal inputs (the model standardises them itself).
torch::Tensor check_observations(LoadedAgent& loaded, Env* env, const InferenceGraph& graph, int64_t count) {
  std::vector<int64_t> shape{count};
  shape.insert(shape.end(), graph.observation_shape.begin(), graph.observation_shape.end());
  if (env == nullptr) {
    torch::Generator generator = at::detail::createCPUGenerator(seeds::test(loaded.config.run.seed));
    return torch::randn(shape, generator, torch::kFloat32);
  }
  const Space& space = env->spec().observation_space;
  torch::Tensor observations = torch::empty(shape, torch_dtype(space.dtype()));
  const int64_t row_bytes = static_cast<int64_t>(space.byte_size());
  auto* rows = static_cast<uint8_t*>(observations.data_ptr());
  torch::Generator generator = at::detail::createCPUGenerator(seeds::test(loaded.config.run.seed));
  uint64_t seed = seeds::test(loaded.config.run.seed);
  env->reset(seed++, rows);
  const int64_t episode_cap = std::max<int64_t>(env->spec().max_episode_steps, 1000);
  int64_t episode_steps = 0;
  for (int64_t i = 0; i + 1 < count; ++i) {
    uint8_t* next = rows + (i + 1) * row_bytes;
    const torch::Tensor action = loaded.agent->act(observations.narrow(0, i, 1), true, generator).to(torch::kCPU).contiguous();
    StepResult r;
    if (env->spec().action_space.is_discrete()) {
      r = env->step(action.item<int64_t>(), next);
    } else {
      const torch::Tensor a = action.to(torch::kFloat32).reshape({-1});
      r = env->step(ActionRef::box(a.data_ptr<float>(), static_cast<std::size_t>(a.numel())), next);
    }
    if (r.terminated || r.truncated || ++episode_steps >= episode_cap) {
      env->reset(seed++, next);
      episode_steps = 0;
    }
  }
  return observations;
}

// The action rlforge's agent gives the env: Box actions clipped to the space, as the export does.
torch::Tensor reference_actions(Agent& agent, const Env* env, const torch::Tensor& observations) {
  torch::NoGradGuard no_grad;
  torch::Generator generator = at::detail::createCPUGenerator(0);
  torch::Tensor actions = agent.act(observations, true, generator).to(torch::kCPU);
  if (actions.scalar_type() == torch::kInt64 || env == nullptr) return actions;
  const Space& space = env->spec().action_space;
  const torch::Tensor low = torch::tensor(space.low()), high = torch::tensor(space.high());
  return torch::maximum(torch::minimum(actions.to(torch::kFloat32), high), low);
}

// "identical on N of N" for indices, else the largest absolute difference.
std::string agreement(const torch::Tensor& a, const torch::Tensor& b, double& max_difference, int64_t& mismatches) {
  if (a.scalar_type() == torch::kInt64 || b.scalar_type() == torch::kInt64) {
    mismatches = a.ne(b.to(a.scalar_type())).sum().item<int64_t>();
    max_difference = 0;
    return "identical on " + std::to_string(a.size(0) - mismatches) + " of " + std::to_string(a.size(0));
  }
  max_difference = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
  mismatches = max_difference <= 1e-5 ? 0 : 1;
  return "max |difference| " + std::to_string(max_difference);
}

}  // namespace

// A predictor trained on a table (no env, so load_agent has no policy to make): its input and
// output widths are read from the checkpoint's own weights, then it loads as any agent does.
LoadedAgent load_table_model(const std::string& checkpoint, const Checkpoint& info, const ExperimentConfig& config) {
  LoadedAgent loaded;
  loaded.checkpoint = checkpoint;
  loaded.info = info;
  loaded.config = config;
  if (loaded.config.algo == "self_supervised") {
    throw std::runtime_error(loaded.checkpoint + ": a self-supervised model predicts observations of pairs; it has no policy to export");
  }
  if (loaded.config.algo == "unsupervised") {
    throw std::runtime_error(loaded.checkpoint + ": an unsupervised model (" + loaded.config.supervised.task +
                             ") clusters or scores inputs; it has no policy or predictor to export");
  }
  torch::serialize::InputArchive archive = open_checkpoint(loaded.checkpoint), model, head;
  torch::Tensor input_mean, head_weight;
  archive.read("model", model);
  model.read("input_mean", input_mean, /*is_buffer=*/true);
  model.read("head", head);
  head.read("weight", head_weight);
  loaded.agent = make_supervised_model(loaded.config, EnvSpec{}, input_mean.numel(), head_weight.size(0),
                                       loaded.config.run.seed, torch::kCPU);
  load_checkpoint(loaded.checkpoint, *loaded.agent);
  return loaded;
}

namespace {

int export_policy(const ExportArgs& args) {
  load_plugins(args.plugins);
  const ExportFormat format = parse_export_format(args.format);
  const std::string checkpoint = checkpoint_of(args.target);
  const Checkpoint info = read_checkpoint_info(checkpoint);
  const ExperimentConfig config = parse_config(info.config_yaml, checkpoint + " (its config)");
  const bool table = config.env.id.empty();
  LoadedAgent loaded = config.learns_from_data() && table ? load_table_model(checkpoint, info, config)
                                                          : load_agent(args.target, std::nullopt);
  const InferenceGraph graph = loaded.agent->inference_graph({args.value, args.distribution});

  // The graph must act as the agent does before anything is written.
  const std::unique_ptr<Env> env = table ? nullptr : make_configured_env(loaded.config.env);
  const torch::Tensor observations = check_observations(loaded, env.get(), graph, args.check_observations);
  const torch::Tensor expected = reference_actions(*loaded.agent, env.get(), observations);
  const torch::Tensor graph_actions = graph.run(observations).at(0);
  double difference = 0;
  int64_t mismatches = 0;
  const std::string graph_agreement = agreement(graph_actions, expected, difference, mismatches);
  if (mismatches > 0) {
    throw std::runtime_error("export: the exported program disagrees with " + loaded.checkpoint +
                             "'s own actions (" + graph_agreement + "); nothing written");
  }

  ExportMetadata extra{{"env", table ? "(table)" : loaded.config.env.id},
                       {"checkpoint", fs::absolute(loaded.checkpoint).string()},
                       {"env_steps", std::to_string(loaded.info.env_steps)}};
  const std::string out = !args.out.empty() ? args.out
                          : (fs::is_directory(args.target) ? (fs::path(args.target) / "policy").string() : "policy") +
                                std::string(format == ExportFormat::onnx ? ".onnx" : ".pt");
  write_export(graph, format, out, export_metadata(graph, extra));
  std::cout << "export: " << graph.algorithm << " policy of " << loaded.checkpoint << " (" << loaded.info.env_steps
            << (loaded.config.learns_from_data() ? " epochs), " : " env steps), ") << graph.nodes.size()
            << " operations, outputs:";
  for (const InferenceGraph::Output& o : graph.outputs) std::cout << " " << o.name;
  std::cout << "\nchecked on " << observations.size(0) << (table ? " standard normal inputs" : " held-out observations")
            << ": actions " << graph_agreement << " against rlforge's" << std::endl;

  if (format == ExportFormat::torchscript) {
    // Read back as a user would, without rlforge's classes.
    torch::jit::Module module = torch::jit::load(out);
    torch::NoGradGuard no_grad;
    const torch::IValue result = module.forward({observations});
    const torch::Tensor loaded_actions = result.isTuple() ? result.toTuple()->elements()[0].toTensor() : result.toTensor();
    const std::string file_agreement = agreement(loaded_actions, expected, difference, mismatches);
    std::cout << "torch::jit::load(" << out << "): actions " << file_agreement << std::endl;
    if (mismatches > 0) throw std::runtime_error("export: " + out + " read back disagrees with rlforge's actions");
  }
  std::cout << "wrote " << out << std::endl;
  return 0;
}

}  // namespace

void add_export_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "Write a trained policy as TorchScript or ONNX: raw observations in, the "
                                           "env's action out, runnable without rlforge");
  cmd->add_option("RUN", args->target, "Run directory (its best checkpoint) or checkpoint file")->required();
  cmd->add_option("--format", args->format, "torchscript (torch.jit.load, torch::jit::load) or onnx (opset 13)")
      ->capture_default_str()
      ->check(CLI::IsMember({"torchscript", "onnx"}));
  cmd->add_option("--out", args->out, "The file to write (default: RUN/policy.pt or RUN/policy.onnx)");
  cmd->add_flag("--value", args->value, "Also output the value estimate");
  cmd->add_flag("--distribution", args->distribution,
                "Also output the action distribution's parameters (logits, Q-values, or a Gaussian's mean and log-std)");
  cmd->add_option("--check-observations", args->check_observations,
                  "Held-out observations the export is checked on before it is written")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  add_plugin_option(*cmd, args->plugins);
  cmd->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return export_policy(*args); }); });
}

}  // namespace rlforge::cli
