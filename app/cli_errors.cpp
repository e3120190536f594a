#include "cli_errors.h"

#include <exception>
#include <iostream>

namespace rlforge::cli {

void print_error(const std::string& message) {
  std::string one_line = message;
  for (char& c : one_line) {
    if (c == '\n') c = ' ';
  }
  std::cerr << "rlforge: error: " << one_line << std::endl;
}

int run_reporting_errors(const std::function<int()>& command) {
  try {
    return command();
  } catch (const std::exception& e) {
    print_error(e.what());
  } catch (...) {
    print_error("unknown error");
  }
  return 1;
}

}  // namespace rlforge::cli
