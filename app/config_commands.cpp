#include "config_commands.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "cli_errors.h"
#include "rlforge/envs/options.h"
#include "rlforge/trainers/config_schema.h"

namespace rlforge::cli {

namespace {

struct ConfigArgs {
  std::string algo;
  bool markdown = false;
};

int list_config_keys(const ConfigArgs& args) {
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
  auto* config = app.add_subcommand("config", "List every config key with its type, default, allowed values and meaning");
  config->add_option("--algo", args->algo, "Only the keys that apply to this agent.algo (ppo, dqn, sac, td3, tqc, supervised, semi_supervised, self_supervised, unsupervised)");
  config->add_flag("--markdown", args->markdown, "Print docs/config.md");
  config->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return list_config_keys(*args); }); });
}

}  // namespace rlforge::cli
