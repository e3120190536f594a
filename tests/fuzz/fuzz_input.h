#pragma once
// The readers under test take a path: each input is written to one file per process, replaced
// for every input.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace rlforge::fuzz {

inline std::string write_input_file(const uint8_t* data, size_t size, const std::string& suffix) {
  static const std::string path =
      "/tmp/rlforge_fuzz_" + std::to_string(static_cast<long>(getpid())) + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::logic_error("fuzz: cannot write " + path);
  if (size > 0 && std::fwrite(data, 1, size, f) != size) throw std::logic_error("fuzz: short write to " + path);
  std::fclose(f);
  return path;
}

}  // namespace rlforge::fuzz
