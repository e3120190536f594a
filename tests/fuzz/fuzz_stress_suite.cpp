// read_stress_suite (`rlforge stress --suite FILE`) on any bytes: a suite or one
// std::runtime_error naming the file and line. An accepted suite must also read back to itself:
// the suite file `rlforge stress` writes beside its results (stress_suite_yaml) is accepted again
// and is written the same way, so that a stress run can be repeated from it.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz_input.h"
#include "rlforge/evaluation/stress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = rlforge::fuzz::write_input_file(data, size, "_suite.yaml");
  std::string first;
  try {
    first = rlforge::stress_suite_yaml(rlforge::read_stress_suite(path));
  } catch (const std::runtime_error&) {
    return 0;
  }
  rlforge::fuzz::require_fixed_point<std::runtime_error>("fuzz_stress_suite", first, [](const std::string& text) {
    const std::string again =
        rlforge::fuzz::write_input_file(reinterpret_cast<const uint8_t*>(text.data()), text.size(), "_suite_again.yaml");
    return rlforge::stress_suite_yaml(rlforge::read_stress_suite(again));
  });
  return 0;
}
