#pragma once
// Subcommands about environments: `envs`, `check-env`, `bench env`.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "rlforge/envs/options.h"

namespace rlforge::cli {

// Adds the subcommands to `app`; each sets `exit_code` when it runs.
void add_env_commands(CLI::App& app, int& exit_code);

// `--plugin LIB` (repeatable): env plugins to load before the command runs.
CLI::Option* add_plugin_option(CLI::App& command, std::vector<std::string>& plugins);
// Loads them into the process-wide registry (an error names the plugin).
void load_plugins(const std::vector<std::string>& plugins);

// `--set key=value` words as env options.
Options parse_assignments(const std::vector<std::string>& assignments);

}  // namespace rlforge::cli
