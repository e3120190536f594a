#pragma once
// Subcommands about environments: `envs`, `check-env`, `bench env`.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

// Adds the subcommands to `app`; each sets `exit_code` when it runs.
void add_env_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
