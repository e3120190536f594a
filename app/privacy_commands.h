#pragma once
// `rlforge privacy`: planning DP-SGD runs with the RDP accountant (stats/privacy_accountant.h):
// the epsilon a sampling rate, noise multiplier and step count spend, or the noise multiplier a
// target epsilon needs.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_privacy_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
