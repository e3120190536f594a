#pragma once
// Observation and action spaces: Discrete{n} and Box{shape, low, high, dtype}.
//
// Element types: a Discrete value is one int64; a Box holds float32 (vectors) or uint8 (pixels).
// Values travel as raw memory whose layout the space describes (row-major, `size()` elements of
// `dtype()`), so a batch of them is a contiguous [N, ...] array that LibTorch can wrap as is.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rlforge/envs/numpy_random.h"

namespace rlforge {

enum class DType : uint8_t { Float32, UInt8, Int64 };

const char* dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);

class Space {
 public:
  enum class Kind : uint8_t { Discrete, Box };

  Space() = default;
  static Space discrete(int64_t n);
  // A Box with per-element bounds (low/high hold one value per element, or one for all).
  static Space box(std::vector<int64_t> shape, std::vector<float> low, std::vector<float> high,
                   DType dtype = DType::Float32);
  static Space box(std::vector<int64_t> shape, float low, float high,
                   DType dtype = DType::Float32);

  Kind kind() const { return kind_; }
  bool is_discrete() const { return kind_ == Kind::Discrete; }
  bool is_box() const { return kind_ == Kind::Box; }
  // Number of choices of a Discrete space.
  int64_t n() const { return n_; }
  // Shape of one value: {} for Discrete (a scalar).
  const std::vector<int64_t>& shape() const { return shape_; }
  // Elements in one value (1 for Discrete).
  std::size_t size() const { return size_; }
  std::size_t byte_size() const { return size_ * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  // Per-element bounds of a Box (size() values each).
  const std::vector<float>& low() const { return low_; }
  const std::vector<float>& high() const { return high_; }
  bool is_bounded() const;

  // Whether a value (size() elements of dtype()) lies in the space. NaN never does.
  bool contains(const void* value) const;
  // Index of the first element outside the space, or -1.
  int64_t first_violation(const void* value) const;
  // Draws a value as Gymnasium's space.sample() does from a generator seeded alike: Discrete
  // `integers(n)`; a Box's bounded elements `uniform(low, high)` in element order (uint8:
  // `floor(uniform(low, high + 1))`), so that random-action baselines match Gymnasium's draw for
  // draw. Where a Box has unbounded elements it draws as Gymnasium does, bit for bit: first
  // `normal()` for those unbounded on both sides, then `exponential() + low` for those bounded
  // below only, `-exponential() + high` for those bounded above only, and last the bounded ones,
  // each group in element order.
  void sample(NumpyGenerator& rng, void* out) const;
  // `count` values back to back, as the action space of Gymnasium's vector env samples them:
  // a Box as `count` calls of sample(); a Discrete as a MultiDiscrete, `floor(random() * n)`.
  void sample_batch(NumpyGenerator& rng, void* out, std::size_t count) const;

  // "Discrete(3)", "Box(-1.0, 1.0, (1,), float32)", "Box([-4.8 -inf ...], [...], (4,), float32)".
  std::string describe() const;
  // A value as text for error messages: "5", "[0.1, nan]".
  std::string format_value(const void* value) const;

  bool operator==(const Space& other) const;
  bool operator!=(const Space& other) const { return !(*this == other); }

 private:
  Kind kind_ = Kind::Discrete;
  int64_t n_ = 0;
  std::vector<int64_t> shape_;
  std::size_t size_ = 1;
  DType dtype_ = DType::Int64;
  std::vector<float> low_, high_;
  bool bounded_ = true;  // is_bounded(), kept for sample()'s common case
};

}  // namespace rlforge
