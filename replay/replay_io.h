#pragma once
// Private to replay/: the binary file format of saved replay buffers.
//
//   [0, 8)        magic "RLFGRPLY"
//   [8, 12)       u32 format version
//   [12, 16)      u32 header size H
//   [16, 16 + H)  header fields (config, positions, subclass fields), little-endian
//   next 8        u64 checksum of bytes [0, 16 + H): a damaged header is told apart from data
//   ...           per env, its written slots: observations, actions, rewards, flags, frame
//                 history, subclass data (priorities)
//   last 8        u64 checksum of every byte before it, hashed in 1 MiB chunks, chained
//
// The checksum is our own 4-lane multiply-xorshift hash: it detects damage (a flipped bit, a
// torn write), not tampering. The host is assumed little-endian (x86-64, AArch64).

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace rlforge::replay_io {

constexpr char kMagic[8] = {'R', 'L', 'F', 'G', 'R', 'P', 'L', 'Y'};
constexpr uint32_t kVersion = 1;
constexpr std::size_t kChunk = std::size_t{1} << 20;
constexpr uint32_t kMaxHeader = 1u << 24;

uint64_t checksum(const unsigned char* data, std::size_t size, uint64_t seed);

// Header fields, packed in order.
class Packer {
 public:
  template <typename T>
  void put(T value) {
    const auto* p = reinterpret_cast<const char*>(&value);
    bytes_.append(p, sizeof(T));
  }
  void put_shape(const std::vector<int64_t>& shape) {
    put<uint32_t>(static_cast<uint32_t>(shape.size()));
    for (int64_t d : shape) put<int64_t>(d);
  }
  void put_bytes(const std::string& s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes_ += s;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// Reads what Packer wrote; running past the end throws (a malformed header).
class Unpacker {
 public:
  Unpacker(const std::string& bytes, std::string where) : bytes_(bytes), where_(std::move(where)) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::vector<int64_t> get_shape() {
    const uint32_t n = get<uint32_t>();
    if (n > 16) fail("an observation or action with " + std::to_string(n) + " dimensions");
    std::vector<int64_t> shape(n);
    for (auto& d : shape) d = get<int64_t>();
    return shape;
  }
  std::string get_bytes() {
    const uint32_t n = get<uint32_t>();
    need(n);
    std::string s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(where_ + ": malformed header (" + what + ")");
  }

 private:
  void need(std::size_t n) const {
    if (pos_ + n > bytes_.size()) fail("ends early");
  }
  const std::string& bytes_;
  std::string where_;
  std::size_t pos_ = 0;
};

// Streams bytes into `path + ".tmp"`, hashing them in 1 MiB chunks; commit() appends the
// checksum, flushes to disk and renames the file into place. Destroyed without commit(), it
// removes the temporary file.
class AtomicWriter {
 public:
  explicit AtomicWriter(const std::string& path);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;
  void write(const void* data, std::size_t size);
  void commit();

 private:
  void flush_chunk();
  void fail(const std::string& what);
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
  std::vector<unsigned char> chunk_;
  uint64_t hash_ = 0;
  bool committed_ = false;
};

// Hashes a whole file but its last 8 bytes the way AtomicWriter does; returns whether the result
// equals those bytes.
bool verify_checksum(std::FILE* file, uint64_t file_size);

}  // namespace rlforge::replay_io
