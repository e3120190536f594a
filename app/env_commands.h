#pragma once
// Subcommands about environments: `envs`, `check-env`, `bench env`.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "rlforge/envs/options.h"

namespace rlforge::cli {

// Adds the subcommands to `app`; each sets `exit_code` when it runs.
void add_env_commands(CLI::App& app, int& exit_code);

// `--set key=value` words as env options.
Options parse_assignments(const std::vector<std::string>& assignments);

}  // namespace rlforge::cli
