#pragma once
// Subcommands that train and evaluate agents: `train`, `eval`.

#include <CLI/CLI.hpp>

#include "render_commands.h"

namespace rlforge::cli {

void add_train_commands(CLI::App& app, int& exit_code);
// Loads a run's policy for `record`.
RunLoader trained_policy_loader();

}  // namespace rlforge::cli
