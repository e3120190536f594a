#pragma once
// `rlforge dataset cluster DATASET --k K`: the behaviour a recorded dataset holds, by clusters of
// its states (rlforge/evaluation/dataset_clusters.h). It needs LibTorch, so it joins the `dataset`
// command only in builds with it.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

// Adds `cluster` to the `dataset` subcommand that add_dataset_commands made.
void add_dataset_cluster_command(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
