#pragma once
// `rlforge report`: interval estimates over the runs of one or more experiments (Agarwal et al.
// 2021): per env and, on normalised scores, across envs; performance profiles, sample-efficiency
// curves, and the probability that one group of runs improves on another.

#include <CLI/CLI.hpp>

#include <string>

namespace rlforge::cli {

void add_report_commands(CLI::App& app, int& exit_code);

// The report of one experiment folder, printed and written into it (report.yaml and figures).
int report_experiment(const std::string& dir);

}  // namespace rlforge::cli
