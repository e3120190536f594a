#pragma once
// `rlforge tune`: hyperparameter search with Optuna (TPE sampling, median pruning, a study in
// SQLite) over real `rlforge train` runs, through app/tune_driver.py; afterwards the plot of trial
// scores.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_tune_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
