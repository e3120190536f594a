// read_gif_frames on any bytes: the frames, or one std::runtime_error naming the file.
// Anything else is a finding.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz_input.h"
#include "rlforge/render/image_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = rlforge::fuzz::write_input_file(data, size, ".gif");
  try {
    const auto frames = rlforge::read_gif_frames(path);
    (void)frames;
  } catch (const std::runtime_error&) {
  }
  return 0;
}
