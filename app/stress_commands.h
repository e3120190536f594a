#pragma once
// `rlforge stress RUN`: a trained policy under distribution shift and attack
// (rlforge/evaluation/stress.h), with its results written into the run directory.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_stress_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
