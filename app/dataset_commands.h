#pragma once
// Subcommands about episode datasets: `dataset record` (episodes of a trained policy or random
// actions into a dataset directory) and `dataset info` (its summary, after checking it).

#include <CLI/CLI.hpp>

#include "render_commands.h"

namespace rlforge::cli {

// `load_run` loads a run's policy (null in builds without LibTorch: only random actions).
void add_dataset_commands(CLI::App& app, int& exit_code, RunLoader load_run);

}  // namespace rlforge::cli
