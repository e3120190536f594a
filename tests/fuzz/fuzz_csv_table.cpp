// read_csv on any bytes: a table, or one DataError naming file, line and column. Anything else
// (another exception, a crash, a sanitizer report) is a finding. The first byte picks
// classification or regression.
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "rlforge/data/errors.h"
#include "rlforge/data/tabular.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool classification = (data[0] & 1) != 0;
  const std::string path = rlforge::fuzz::write_input_file(data + 1, size - 1, ".csv");
  try {
    const rlforge::TabularData table = rlforge::read_csv(path, "y", classification);
    (void)table;
  } catch (const rlforge::DataError&) {
  }
  return 0;
}
