#include "config_commands.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_errors.h"
#include "rlforge/envs/options.h"
#include "rlforge/trainers/config.h"
#include "rlforge/trainers/config_schema.h"

namespace rlforge::cli {

namespace {

struct ConfigArgs {
  std::string algo;
  bool markdown = false;
  std::string config;  // a config file to resolve instead
  std::vector<std::string> overrides;
};

// What a run of CONFIG would train with: every key and its value, a config it extends merged in,
// defaults filled in, --set applied and checked as `train` checks them (its env built once). The
// same text as the run's config.yaml.
int print_resolved_config(const ConfigArgs& args) {
  if (args.markdown || !args.algo.empty()) {
    throw std::invalid_argument("CONFIG prints that config resolved; --markdown and --algo list the keys instead: give one or the other");
  }
  const ExperimentConfig config = load_config(args.config, args.overrides);
  YAML::Emitter resolved;
  resolved << config.resolved;
  std::cout << resolved.c_str() << "\n";
  return 0;
}

int list_config_keys(const ConfigArgs& args) {
  if (!args.config.empty()) return print_resolved_config(args);
  if (!args.overrides.empty()) throw std::invalid_argument("--set needs a CONFIG to apply to");
  if (args.markdown) {
    std::cout << config_keys_markdown();
    return 0;
  }
  if (!args.algo.empty()) {
    const auto& algos = config_algos();
    if (std::find(algos.begin(), algos.end(), args.algo) == algos.end()) {
      throw std::invalid_argument("--algo '" + args.algo + "': expected one of " + join_names(algos));
    }
  }
  std::cout << config_keys_text(args.algo);
  return 0;
}

}  // namespace

void add_config_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ConfigArgs>();
  auto* config = app.add_subcommand(
      "config", "List every config key with its type, default, allowed values and meaning; or, given CONFIG, print it resolved");
  config->add_option("CONFIG", args->config,
                     "A config file: print every key with the value a run of it would train with (extends merged, defaults "
                     "filled in, --set applied), as the run's config.yaml");
  config->add_option("--set", args->overrides, "With CONFIG: override a key, key.path=value (repeatable)");
  config->add_option("--algo", args->algo, "Only the keys that apply to this agent.algo (ppo, dqn, sac, td3, tqc, supervised, semi_supervised, self_supervised, unsupervised)");
  config->add_flag("--markdown", args->markdown, "Print docs/config.md");
  config->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return list_config_keys(*args); }); });
}

}  // namespace rlforge::cli
