#pragma once
// `rlforge config`: the config keys, from the one declaration the parser uses.

#include <CLI/CLI.hpp>

namespace rlforge::cli {

void add_config_commands(CLI::App& app, int& exit_code);

}  // namespace rlforge::cli
