#pragma once
// Byte streams for env snapshots: everything needed to continue an episode stream exactly
// (physical state, generator, counters), for checkpoints that resume a run bit for bit.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "rlforge/envs/errors.h"
#include "rlforge/envs/numpy_random.h"

namespace rlforge {

class SnapshotWriter {
 public:
  template <class T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  template <class T>
  void put_vector(const std::vector<T>& values) {
    put<uint64_t>(values.size());
    if (!values.empty()) bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  void put_bytes(const std::string& bytes) {
    put<uint64_t>(bytes.size());
    bytes_ += bytes;
  }
  // Field by field, so that no padding bytes reach the snapshot.
  void put_generator(const NumpyGenerator::State& state) {
    put(state.words);
    put<uint8_t>(state.has_u32 ? 1 : 0);
    put(state.u32);
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class SnapshotReader {
 public:
  SnapshotReader(const std::string& bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {}

  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  template <class T>
  std::vector<T> get_vector() {
    const auto n = get<uint64_t>();
    // A damaged count must not overflow n * sizeof(T) or allocate before the check.
    if (n > (bytes_.size() - pos_) / sizeof(T)) fail("a vector of " + std::to_string(n) + " values runs past the end");
    std::vector<T> values(n);
    // An empty vector's data() may be null, which memcpy must not be given even for 0 bytes.
    if (n > 0) std::memcpy(values.data(), bytes_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return values;
  }
  std::string get_bytes() {
    const auto n = get<uint64_t>();
    need(n);
    std::string out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  NumpyGenerator::State get_generator() {
    NumpyGenerator::State state;
    state.words = get<std::array<uint64_t, 4>>();
    const auto has_u32 = get<uint8_t>();
    if (has_u32 > 1) fail("the generator's state is damaged");
    state.has_u32 = has_u32 == 1;
    state.u32 = get<uint32_t>();
    // PCG64's increment is always odd; an even one is not a generator's state.
    if ((state.words[3] & 1) == 0) fail("the generator's state is damaged");
    return state;
  }
  bool done() const { return pos_ == bytes_.size(); }
  [[noreturn]] void fail(const std::string& why) const { throw EnvError(what_ + ": snapshot does not fit: " + why); }

 private:
  void need(std::size_t n) const {
    if (n > bytes_.size() - pos_) fail("it is shorter than expected (truncated, or from another env)");
  }
  const std::string& bytes_;
  std::string what_;
  std::size_t pos_ = 0;
};

}  // namespace rlforge
