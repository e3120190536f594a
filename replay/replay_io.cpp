#include "replay_io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace rlforge::replay_io {

namespace {
constexpr uint64_t kMul = 0x9E6C63D0676A9A99ull;
constexpr uint64_t kLane[4] = {0x243F6A8885A308D3ull, 0x13198A2E03707344ull,
                               0xA4093822299F31D0ull, 0x082EFA98EC4E6C89ull};

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t step(uint64_t lane, uint64_t word) {
  lane = (lane ^ word) * kMul;
  return lane ^ (lane >> 29);
}
inline uint64_t finish(uint64_t h) {
  h ^= h >> 32;
  h *= kMul;
  h ^= h >> 29;
  h *= kMul;
  return h ^ (h >> 32);
}
}  // namespace

uint64_t checksum(const unsigned char* data, std::size_t size, uint64_t seed) {
  uint64_t lane[4];
  for (int l = 0; l < 4; ++l) lane[l] = kLane[l] ^ seed;
  std::size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    for (int l = 0; l < 4; ++l) lane[l] = step(lane[l], load64(data + i + 8 * l));
  }
  for (; i + 8 <= size; i += 8) lane[0] = step(lane[0], load64(data + i));
  if (i < size) {
    uint64_t tail = 0;
    std::memcpy(&tail, data + i, size - i);
    lane[1] = step(lane[1], tail);
  }
  uint64_t h = finish(size ^ kLane[3]);
  for (int l = 0; l < 4; ++l) h = finish(h ^ finish(lane[l] + static_cast<uint64_t>(l)));
  return h;
}

AtomicWriter::AtomicWriter(const std::string& path) : path_(path), tmp_(path + ".tmp") {
  chunk_.reserve(kChunk);
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (file_ == nullptr) {
    throw std::runtime_error("cannot write replay buffer file " + tmp_ + ": " + std::strerror(errno));
  }
}

AtomicWriter::~AtomicWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicWriter::fail(const std::string& what) {
  const std::string reason = std::strerror(errno);
  throw std::runtime_error("cannot write replay buffer file " + tmp_ + ": " + what + " (" + reason + ")");
}

void AtomicWriter::flush_chunk() {
  if (chunk_.empty()) return;
  hash_ = checksum(chunk_.data(), chunk_.size(), hash_);
  if (std::fwrite(chunk_.data(), 1, chunk_.size(), file_) != chunk_.size()) fail("write failed");
  chunk_.clear();
}

void AtomicWriter::write(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (size > 0) {
    const std::size_t n = std::min(size, kChunk - chunk_.size());
    chunk_.insert(chunk_.end(), p, p + n);
    p += n;
    size -= n;
    if (chunk_.size() == kChunk) flush_chunk();
  }
}

void AtomicWriter::commit() {
  flush_chunk();
  if (std::fwrite(&hash_, 1, sizeof(hash_), file_) != sizeof(hash_)) fail("write failed");
  if (std::fflush(file_) != 0) fail("flush failed");
  if (::fsync(::fileno(file_)) != 0) fail("fsync failed");
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) fail("close failed");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail("rename to " + path_ + " failed");
  committed_ = true;
}

bool verify_checksum(std::FILE* file, uint64_t file_size) {
  if (file_size < sizeof(uint64_t)) return false;
  const uint64_t payload = file_size - sizeof(uint64_t);
  std::vector<unsigned char> chunk(kChunk);
  if (std::fseek(file, 0, SEEK_SET) != 0) return false;
  uint64_t hash = 0;
  for (uint64_t done = 0; done < payload;) {
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(kChunk, payload - done));
    if (std::fread(chunk.data(), 1, n, file) != n) return false;
    hash = checksum(chunk.data(), n, hash);
    done += n;
  }
  uint64_t stored = 0;
  if (std::fread(&stored, 1, sizeof(stored), file) != sizeof(stored)) return false;
  return stored == hash;
}

}  // namespace rlforge::replay_io
