#pragma once
// Subcommands that train and evaluate agents: `train`, `eval`.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_train_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
