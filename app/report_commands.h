#pragma once
// `rlforge report`: interval estimates over the runs of one or more experiments.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_report_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
