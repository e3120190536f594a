#pragma once
// `rlforge export RUN_OR_CHECKPOINT --format torchscript|onnx --out FILE`: a trained policy as a
// file that runs without rlforge (rlforge/export/policy_export.h), checked against the agent's own
// actions on held-out observations before it is written.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_export_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
