#pragma once
// The readers under test take a path: each input is written to one file per process, replaced
// for every input.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

namespace rlforge::fuzz {

// The input file, removed when the fuzzer exits.
struct InputFile {
  std::string path;
  ~InputFile() { std::remove(path.c_str()); }
};

inline std::string write_input_file(const uint8_t* data, size_t size, const std::string& suffix) {
  static const InputFile file{"/tmp/rlforge_fuzz_" + std::to_string(static_cast<long>(getpid())) + suffix};
  const std::string& path = file.path;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::logic_error("fuzz: cannot write " + path);
  if (size > 0 && std::fwrite(data, 1, size, f) != size) throw std::logic_error("fuzz: short write to " + path);
  std::fclose(f);
  return path;
}

// Text a reader turned an accepted input into (a resolved config, a written suite) must read back
// to itself: `canonical(text)` reads text and writes it again, throwing Error to refuse it.
template <typename Error, typename Canonical>
void require_fixed_point(const char* target, const std::string& first, const Canonical& canonical) {
  std::string second;
  try {
    second = canonical(first);
  } catch (const Error& e) {
    std::cerr << target << ": what it wrote is refused: " << e.what() << "\n--- written:\n" << first << "\n";
    std::abort();
  }
  if (second != first) {
    std::cerr << target << ": what it wrote does not read back to itself\n--- first:\n"
              << first << "\n--- second:\n" << second << "\n";
    std::abort();
  }
}

}  // namespace rlforge::fuzz
