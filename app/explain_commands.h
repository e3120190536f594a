#pragma once
// `rlforge explain RUN`: which observation elements a trained policy's decisions rest on
// (rlforge/evaluation/explain.h), with its results written into the run directory; and
// `rlforge card RUN`, the run's model card (rlforge/evaluation/model_card.h).

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_explain_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
