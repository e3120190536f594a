#include "rlforge/envs/space.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "rlforge/envs/errors.h"

namespace rlforge {

namespace {
std::string number_text(double v);
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::UInt8: return "uint8";
    case DType::Int64: return "int64";
  }
  return "?";
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::Float32: return 4;
    case DType::UInt8: return 1;
    case DType::Int64: return 8;
  }
  return 0;
}

Space Space::discrete(int64_t n) {
  if (n <= 0) throw EnvError("Discrete space needs n > 0, got " + std::to_string(n));
  Space s;
  s.kind_ = Kind::Discrete;
  s.n_ = n;
  s.size_ = 1;
  s.dtype_ = DType::Int64;
  return s;
}

Space Space::box(std::vector<int64_t> shape, std::vector<float> low, std::vector<float> high,
                 DType dtype) {
  if (dtype == DType::Int64) throw EnvError("Box spaces hold float32 or uint8, not int64");
  std::size_t size = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw EnvError("Box dimensions must be positive, got " + std::to_string(d));
    size *= static_cast<std::size_t>(d);
  }
  auto expand = [size](std::vector<float> v, const char* what) {
    if (v.size() == 1 && size != 1) v.assign(size, v[0]);
    if (v.size() != size) {
      throw EnvError(std::string("Box ") + what + " bound has " +
                                  std::to_string(v.size()) + " values for " +
                                  std::to_string(size) + " elements");
    }
    return v;
  };
  Space s;
  s.kind_ = Kind::Box;
  s.shape_ = std::move(shape);
  s.size_ = size;
  s.dtype_ = dtype;
  s.low_ = expand(std::move(low), "low");
  s.high_ = expand(std::move(high), "high");
  for (std::size_t i = 0; i < size; ++i) {
    if (!(s.low_[i] <= s.high_[i])) {
      throw EnvError("Box needs low <= high; element " + std::to_string(i) + " has low " +
                     number_text(s.low_[i]) + " and high " + number_text(s.high_[i]));
    }
  }
  s.bounded_ = s.is_bounded();
  return s;
}

Space Space::box(std::vector<int64_t> shape, float low, float high, DType dtype) {
  return box(std::move(shape), std::vector<float>{low}, std::vector<float>{high}, dtype);
}

bool Space::is_bounded() const {
  if (is_discrete()) return true;
  for (std::size_t i = 0; i < size_; ++i) {
    if (std::isinf(low_[i]) || std::isinf(high_[i])) return false;
  }
  return true;
}

int64_t Space::first_violation(const void* value) const {
  if (is_discrete()) {
    const int64_t a = *static_cast<const int64_t*>(value);
    return (a >= 0 && a < n_) ? -1 : 0;
  }
  if (dtype_ == DType::UInt8) {
    const auto* v = static_cast<const uint8_t*>(value);
    for (std::size_t i = 0; i < size_; ++i) {
      if (v[i] < low_[i] || v[i] > high_[i]) return static_cast<int64_t>(i);
    }
    return -1;
  }
  const auto* v = static_cast<const float*>(value);
  for (std::size_t i = 0; i < size_; ++i) {
    // Written so that NaN fails.
    if (!(v[i] >= low_[i] && v[i] <= high_[i])) return static_cast<int64_t>(i);
  }
  return -1;
}

bool Space::contains(const void* value) const { return first_violation(value) < 0; }

void Space::sample(NumpyGenerator& rng, void* out) const {
  if (is_discrete()) {
    *static_cast<int64_t*>(out) = rng.integers(n_);
    return;
  }
  if (dtype_ == DType::UInt8) {
    // Gymnasium widens an integer Box's high by one and floors a uniform draw.
    for (std::size_t i = 0; i < size_; ++i) {
      const double x = std::floor(rng.uniform(low_[i], static_cast<double>(high_[i]) + 1.0));
      static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(std::min<double>(x, high_[i]));
    }
    return;
  }
  auto* values = static_cast<float*>(out);
  if (bounded_) {
    for (std::size_t i = 0; i < size_; ++i) {
      // Rounding to float32 can step just past a bound.
      values[i] = std::clamp(static_cast<float>(rng.uniform(low_[i], high_[i])), low_[i], high_[i]);
    }
    return;
  }
  // Gymnasium's Box.sample fills the unbounded elements (normal(size=k)), then the lower-bounded
  // (exponential(size=k) + low), the upper-bounded (-exponential(size=k) + high) and last the
  // bounded ones (uniform(low, high)), each group in element order, in float64, then casts the
  // whole to float32.
  enum Group { kUnbounded, kLowerBounded, kUpperBounded, kBounded };
  auto group_of = [&](std::size_t i) {
    const bool lo_inf = std::isinf(low_[i]), hi_inf = std::isinf(high_[i]);
    if (lo_inf && hi_inf) return kUnbounded;
    if (hi_inf) return kLowerBounded;
    if (lo_inf) return kUpperBounded;
    return kBounded;
  };
  for (Group group : {kUnbounded, kLowerBounded, kUpperBounded, kBounded}) {
    for (std::size_t i = 0; i < size_; ++i) {
      if (group_of(i) != group) continue;
      const double lo = low_[i], hi = high_[i];
      double x = 0.0;
      switch (group) {
        case kUnbounded: x = rng.normal(0.0, 1.0); break;
        case kLowerBounded: x = rng.exponential(1.0) + lo; break;
        case kUpperBounded: x = -rng.exponential(1.0) + hi; break;
        case kBounded: x = rng.uniform(lo, hi); break;
      }
      auto f = static_cast<float>(x);
      // Rounding to float32 can step just past a bound.
      if (f < low_[i]) f = low_[i];
      if (f > high_[i]) f = high_[i];
      values[i] = f;
    }
  }
}

void Space::sample_batch(NumpyGenerator& rng, void* out, std::size_t count) const {
  if (is_discrete()) {
    auto* a = static_cast<int64_t*>(out);
    const auto n = static_cast<double>(n_);
    for (std::size_t i = 0; i < count; ++i) a[i] = static_cast<int64_t>(rng.random() * n);
    return;
  }
  auto* bytes = static_cast<unsigned char*>(out);
  for (std::size_t i = 0; i < count; ++i) sample(rng, bytes + i * byte_size());
}

namespace {

std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream os;
  os.precision(7);
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string bounds_text(const std::vector<float>& b) {
  bool uniform = true;
  for (float v : b) uniform = uniform && (v == b[0] || (std::isnan(v) && std::isnan(b[0])));
  if (uniform) return number_text(b[0]);
  std::string s = "[";
  const std::size_t shown = b.size() > 8 ? 8 : b.size();
  for (std::size_t i = 0; i < shown; ++i) s += (i ? " " : "") + number_text(b[i]);
  if (shown < b.size()) s += " ...";
  return s + "]";
}

}  // namespace

std::string Space::describe() const {
  if (is_discrete()) return "Discrete(" + std::to_string(n_) + ")";
  std::string shape = "(";
  for (std::size_t i = 0; i < shape_.size(); ++i) shape += (i ? ", " : "") + std::to_string(shape_[i]);
  if (shape_.size() == 1) shape += ",";
  shape += ")";
  return "Box(" + bounds_text(low_) + ", " + bounds_text(high_) + ", " + shape + ", " +
         dtype_name(dtype_) + ")";
}

std::string Space::format_value(const void* value) const {
  if (is_discrete()) return std::to_string(*static_cast<const int64_t*>(value));
  std::string s = "[";
  const std::size_t shown = size_ > 8 ? 8 : size_;
  for (std::size_t i = 0; i < shown; ++i) {
    const double v = dtype_ == DType::UInt8 ? static_cast<const uint8_t*>(value)[i]
                                            : static_cast<const float*>(value)[i];
    s += (i ? ", " : "") + number_text(v);
  }
  if (shown < size_) s += ", ...";
  return s + "]";
}

bool Space::operator==(const Space& o) const {
  if (kind_ != o.kind_ || dtype_ != o.dtype_) return false;
  if (is_discrete()) return n_ == o.n_;
  if (shape_ != o.shape_) return false;
  // By value (bounds are never NaN), so -0.0 and 0.0 are the same bound.
  return low_ == o.low_ && high_ == o.high_;
}

}  // namespace rlforge
