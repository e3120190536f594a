#pragma once
// Files for tests: fresh scratch directories and whole-file reads.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace rlforge::testing {

// The scratch directories this process made, removed when it exits so that test runs leave
// nothing behind in the temporary directory. RLFORGE_KEEP_TEST_FILES=1 keeps them, to look at
// after a failure; a test that crashes keeps them too. A forked child that exits normally leaves
// its parent's directories alone.
class ScratchDirs {
 public:
  void add(const std::filesystem::path& dir) { dirs_.push_back(dir); }
  ~ScratchDirs() {
    const char* keep = std::getenv("RLFORGE_KEEP_TEST_FILES");
    if ((keep != nullptr && std::string(keep) == "1") || ::getpid() != owner_) return;
    std::error_code ec;
    for (const auto& dir : dirs_) std::filesystem::remove_all(dir, ec);
  }

 private:
  std::vector<std::filesystem::path> dirs_;
  pid_t owner_ = ::getpid();
};

inline ScratchDirs& scratch_dirs() {
  static ScratchDirs dirs;
  return dirs;
}

// An empty directory under the system's temporary directory, unique to this process, removed
// when the process exits.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("rlforge-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  scratch_dirs().add(dir);
  return dir;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace rlforge::testing
