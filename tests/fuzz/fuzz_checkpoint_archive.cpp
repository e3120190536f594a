// The integrity check every checkpoint passes before LibTorch reads it (trainers/zip_integrity):
// any bytes are accepted as a whole zip archive or refused with one std::runtime_error. Anything
// else is a finding.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz_input.h"
#include "rlforge/data/zip_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = rlforge::fuzz::write_input_file(data, size, ".pt");
  try {
    rlforge::verify_zip_archive(path);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
