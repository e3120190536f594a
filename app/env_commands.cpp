#include "env_commands.h"

#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli_errors.h"
#include "rlforge/envs/conformance.h"
#include "rlforge/envs/plugin.h"
#include "rlforge/envs/registry.h"
#include "throughput.h"

namespace rlforge::cli {

Options parse_assignments(const std::vector<std::string>& assignments) {
  Options options;
  for (const auto& text : assignments) {
    auto [key, value] = Options::parse_assignment(text);
    options.set(key, value);
  }
  return options;
}

CLI::Option* add_plugin_option(CLI::App& command, std::vector<std::string>& plugins) {
  return command.add_option("--plugin", plugins,
                            "Env plugin (shared library) to load first (repeatable); it runs with your rights, so "
                            "load only plugins you trust")
      ->allow_extra_args(false);  // one file per --plugin: the next word is the command's own
}

void load_plugins(const std::vector<std::string>& plugins) { load_env_plugins(plugins); }

namespace {

std::string option_kind(const OptionValue& v) {
  switch (v.index()) {
    case 0: return "bool";
    case 1: return "int";
    case 2: return "number";
    default: return "string";
  }
}

int list_envs(const std::vector<std::string>& plugins) {
  load_plugins(plugins);
  const EnvRegistry& registry = env_registry();
  for (const std::string& id : registry.ids()) {
    const auto env = registry.make(id);
    const EnvSpec& spec = env->spec();
    std::cout << id << " - " << registry.find(id).description << "\n";
    if (!registry.find(id).source.empty()) std::cout << "  from:              " << registry.find(id).source << "\n";
    std::cout << "  observation:       " << spec.observation_space.describe() << "\n";
    std::cout << "  action:            " << spec.action_space.describe() << "\n";
    std::cout << "  max_episode_steps: "
              << (spec.max_episode_steps > 0 ? std::to_string(spec.max_episode_steps) : "none")
              << "\n";
    std::cout << "  reward_threshold:  "
              << (spec.reward_threshold ? option_value_text(*spec.reward_threshold) : "none")
              << "\n";
    std::cout << "  options:";
    for (const OptionDecl& o : registry.options_of(id)) {
      std::cout << "\n    " << o.name << " (" << option_kind(o.default_value)
                << ", default " << option_value_text(o.default_value) << "): " << o.help;
    }
    std::cout << "\n\n";
  }
  std::cout << registry.ids().size() << " environments registered" << std::endl;
  return 0;
}

int check_env(const std::string& id, const std::vector<std::string>& assignments, int64_t seed,
              const std::vector<std::string>& plugins) {
  load_plugins(plugins);
  const Options options = parse_assignments(assignments);
  ConformanceSettings settings;
  settings.seed = static_cast<uint64_t>(seed);
  const auto checks = check_env_conformance(id, options, settings);
  int failed = 0;
  std::cout << "conformance of " << id << ":\n";
  for (const auto& c : checks) {
    failed += !c.passed;
    std::cout << (c.passed ? "  PASS  " : "  FAIL  ") << c.property;
    if (!c.detail.empty()) std::cout << " (" << c.detail << ")";
    std::cout << "\n";
  }
  std::cout << checks.size() - static_cast<std::size_t>(failed) << " of " << checks.size()
            << " checks passed" << std::endl;
  if (failed) {
    print_error(id + " fails " + std::to_string(failed) + " of " + std::to_string(checks.size()) +
                " conformance checks");
    return 1;
  }
  return 0;
}

struct BenchArgs {
  std::string id;
  int num_envs = 1;
  int threads = 1;
  int64_t steps = 0;
  int64_t seed = 0;
  std::vector<std::string> assignments;
  std::vector<std::string> plugins;
};

int bench_env(const BenchArgs& args) {
  load_plugins(args.plugins);
  VectorEnvConfig config;
  config.num_envs = args.num_envs;
  config.threads = args.threads;
  config.options = parse_assignments(args.assignments);
  if (!args.id.empty()) {
    config.id = args.id;
    const int64_t steps = args.steps > 0 ? args.steps : 10'000'000;
    const ThroughputResult r = measure_throughput(config, steps, static_cast<uint64_t>(args.seed));
    std::printf("env: %s  num_envs: %d  threads: %d\n", args.id.c_str(), args.num_envs, r.threads);
    std::printf("env_steps: %lld  seconds: %.4f\n", static_cast<long long>(r.env_steps), r.seconds);
    std::printf("steps_per_second: %.0f\n", r.steps_per_second);
    return 0;
  }
  if (!config.options.empty()) throw EnvError("bench env: --set needs --env (options belong to one env)");
  const int64_t steps = args.steps > 0 ? args.steps : 5'000'000;
  std::printf("Env throughput, random actions, num_envs %d, threads %d, %lld env steps each\n",
              args.num_envs, args.threads, static_cast<long long>(steps));
  std::printf("%-28s %16s\n", "env", "steps/s");
  for (const std::string& id : env_registry().ids()) {
    config.id = id;
    const ThroughputResult r = measure_throughput(config, steps, static_cast<uint64_t>(args.seed));
    std::printf("%-28s %16.0f\n", id.c_str(), r.steps_per_second);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

void add_env_commands(CLI::App& app, int& exit_code) {
  auto* envs = app.add_subcommand("envs", "List registered environments with their spaces, limits and options");
  auto envs_plugins = std::make_shared<std::vector<std::string>>();
  add_plugin_option(*envs, *envs_plugins);
  envs->callback([&exit_code, envs_plugins] {
    exit_code = run_reporting_errors([&] { return list_envs(*envs_plugins); });
  });

  auto* check = app.add_subcommand("check-env", "Run the env conformance suite on one environment");
  auto check_id = std::make_shared<std::string>();
  auto check_sets = std::make_shared<std::vector<std::string>>();
  auto check_seed = std::make_shared<int64_t>(0);
  auto check_plugins = std::make_shared<std::vector<std::string>>();
  check->add_option("ID", *check_id, "Environment id (see `rlforge envs`)")->required();
  check->add_option("--set", *check_sets, "Env option as key=value (repeatable)");
  check->add_option("--seed", *check_seed, "Seed of the checks (>= 0)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  add_plugin_option(*check, *check_plugins);
  check->callback([&exit_code, check_id, check_sets, check_seed, check_plugins] {
    exit_code = run_reporting_errors([&] { return check_env(*check_id, *check_sets, *check_seed, *check_plugins); });
  });

  auto* bench = app.add_subcommand("bench", "Measure throughput");
  bench->require_subcommand(1);
  auto* env = bench->add_subcommand(
      "env", "Env steps per second with random actions; without --env, a table of every env");
  auto args = std::make_shared<BenchArgs>();
  env->add_option("--env", args->id, "Environment id (default: every registered env)");
  env->add_option("--num-envs", args->num_envs, "Environments in the vector env (1 to 1048576)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  env->add_option("--threads", args->threads, "Worker threads of the vector env (1 to 1024)")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  env->add_option("--steps", args->steps,
                  "Env steps to time (default 10M with --env, 5M per env for the table)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  env->add_option("--seed", args->seed, "Seed of envs and actions (>= 0)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  env->add_option("--set", args->assignments, "Env option as key=value (repeatable)");
  add_plugin_option(*env, args->plugins);
  env->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return bench_env(*args); }); });
}

}  // namespace rlforge::cli
