#include "files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "rlforge/data/atomic_file.h"
#include "rlforge/data/errors.h"

namespace fs = std::filesystem;

namespace rlforge::detail {

std::string file_message(const fs::path& path, const std::string& what) {
  return path.string() + ": " + what;
}

std::string errno_text() {
  return std::strerror(errno);
}

namespace {

// A name no other writer picks: pid plus random bits (two writers in one process differ too).
std::string unique_suffix() {
  static thread_local std::mt19937_64 bits(std::random_device{}());
  char text[64];
  std::snprintf(text, sizeof text, "%ld-%08llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(bits() & 0xFFFFFFFFu));
  return text;
}

}  // namespace

OutputFile::OutputFile(const fs::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr)
    throw DataError(file_message(path, "cannot create the file: " + errno_text()));
}

OutputFile::~OutputFile() {
  if (file_ != nullptr) std::fclose(file_);
}

void OutputFile::write(const void* data, std::size_t size) {
  if (size == 0) return;
  if (std::fwrite(data, 1, size, file_) != size)
    throw DataError(file_message(path_, "write failed: " + errno_text()));
  size_ += size;
}

void OutputFile::write_at(uint64_t offset, const void* data, std::size_t size) {
  if (std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0 ||
      std::fwrite(data, 1, size, file_) != size || std::fseek(file_, 0, SEEK_END) != 0) {
    throw DataError(file_message(path_, "write failed: " + errno_text()));
  }
}

void OutputFile::close() {
  if (file_ == nullptr) return;
  const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const std::string reason = ok ? "" : errno_text();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed)
    throw DataError(file_message(path_, "write failed: " + (ok ? errno_text() : reason)));
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: the rename itself has happened
  ::fsync(fd);
  ::close(fd);
}

void write_file_atomically(const fs::path& path, const std::string& content) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(parent))
    throw DataError(
        file_message(path, "cannot write: directory " + parent.string() + " does not exist"));
  const fs::path temp = parent / ("." + path.filename().string() + ".tmp-" + unique_suffix());
  try {
    OutputFile out(temp);
    out.write(content.data(), content.size());
    out.close();
    if (std::rename(temp.c_str(), path.c_str()) != 0)
      throw DataError(file_message(path, "cannot replace the file: " + errno_text()));
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  sync_directory(parent);
}

StagedDirectory::StagedDirectory(const fs::path& target) : target_(target) {
  std::error_code ec;
  const fs::file_status status = fs::status(target_, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status))
      throw DataError(file_message(target_, "exists and is not a directory"));
    if (!fs::is_empty(target_, ec)) {
      throw DataError(file_message(
          target_, fs::exists(target_ / "episodes.bin")
                       ? "a dataset already exists there; remove it or choose another directory"
                       : "exists and is not empty; expected a new or empty directory"));
    }
  }
  // Symbolic links and ".." resolved where the path exists, lexically beyond.
  fs::path full = fs::weakly_canonical(fs::absolute(target_), ec);
  if (ec) full = fs::absolute(target_).lexically_normal();
  if (!full.has_filename()) full = full.parent_path();  // "out/" names the directory "out"
  const fs::path parent = full.parent_path(), name = full.filename();
  if (name.empty() || name == "..")
    throw DataError(file_message(target_, "expected a directory name"));
  publish_to_ = full;
  for (fs::path p = parent; !p.empty() && !fs::exists(p); p = p.parent_path()) {
    created_parents_.push_back(p);
    if (p == p.parent_path()) break;
  }
  fs::create_directories(parent, ec);
  if (ec) {
    for (const fs::path& p : created_parents_) fs::remove(p, ec);
    throw DataError(file_message(target_, "cannot create its parent directory: " + ec.message()));
  }
  staging_ = parent / ("." + name.string() + ".tmp-" + unique_suffix());
  if (!fs::create_directory(staging_, ec) || ec) {
    for (const fs::path& p : created_parents_) fs::remove(p, ec);
    throw DataError(
        file_message(staging_, "cannot create the temporary directory: " + ec.message()));
  }
}

StagedDirectory::~StagedDirectory() {
  if (published_) return;
  std::error_code ignored;
  fs::remove_all(staging_, ignored);
  for (const fs::path& p : created_parents_) fs::remove(p, ignored);  // only if empty
}

void StagedDirectory::publish() {
  // An empty directory at the target is replaced by rename(2) in one step; a non-empty one (made
  // meanwhile by someone else) makes the rename fail and nothing is overwritten.
  if (std::rename(staging_.c_str(), publish_to_.c_str()) != 0) {
    throw DataError(file_message(target_, "cannot publish the dataset: " + errno_text()));
  }
  published_ = true;
  sync_directory(publish_to_.parent_path());
}

}  // namespace rlforge::detail

namespace rlforge {

void write_data_file_atomically(const std::string& path, const std::string& content) {
  detail::write_file_atomically(path, content);
}

}  // namespace rlforge
