#pragma once
// Writing files and directories so that readers see all or nothing: content goes to a temporary
// name in the same directory, is synced, then renamed into place (rename is atomic on POSIX).

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace rlforge::detail {

// "PATH: what"
std::string file_message(const std::filesystem::path& path, const std::string& what);
// The reason of the last failed C call (errno), e.g. "No space left on device".
std::string errno_text();

// A file open for writing; every failure throws DataError naming the file.
class OutputFile {
 public:
  explicit OutputFile(const std::filesystem::path& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, std::size_t size);
  void write_at(uint64_t offset, const void* data, std::size_t size);  // then back to the end
  uint64_t size() const { return size_; }
  // Flushes, fsyncs and closes.
  void close();

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
};

// `content` to `path` atomically (temporary sibling, fsync, rename).
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

// A directory filled under a hidden temporary sibling name and published with one rename. Until
// publish(), destruction removes it and any parent directories it had to create.
class StagedDirectory {
 public:
  // Throws DataError when `target` exists and is not an empty directory.
  explicit StagedDirectory(const std::filesystem::path& target);
  ~StagedDirectory();
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;

  const std::filesystem::path& staging() const { return staging_; }
  const std::filesystem::path& target() const { return target_; }
  // Where publish() puts it: the target as an absolute path without "..", "." or links.
  const std::filesystem::path& destination() const { return publish_to_; }
  void publish();

 private:
  std::filesystem::path target_, staging_, publish_to_;  // publish_to_: target_, absolute
  std::vector<std::filesystem::path> created_parents_;   // innermost first
  bool published_ = false;
};

// Fsyncs a directory, so that a rename inside it survives a crash.
void sync_directory(const std::filesystem::path& dir);

}  // namespace rlforge::detail
