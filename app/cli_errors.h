#pragma once
// Every command reports failure as one line on stderr and a non-zero exit status.

#include <functional>
#include <string>

namespace rlforge::cli {

// Runs `command`, turning any exception into "rlforge: error: <message>" and exit status 1.
int run_reporting_errors(const std::function<int()>& command);
void print_error(const std::string& message);

}  // namespace rlforge::cli
