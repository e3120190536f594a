#pragma once
// `rlforge explain RUN`: which observation elements a trained policy's decisions rest on
// (rlforge/evaluation/explain.h), with its results written into the run directory.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_explain_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
