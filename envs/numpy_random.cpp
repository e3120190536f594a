#include "rlforge/envs/numpy_random.h"

#include <cmath>
#include <cstring>

#include "numpy_ziggurat_tables.h"

namespace rlforge {

namespace {

// SeedSequence's constants (NumPy's bit_generator.pyx, after Melissa O'Neill's seed_seq_fe).
constexpr uint32_t kInitA = 0x43b0d7e5, kMultA = 0x931e8875, kInitB = 0x8b51f9dd, kMultB = 0x58f38ded;
constexpr uint32_t kMixMultL = 0xca01f9dd, kMixMultR = 0x4973f715;
constexpr int kXShift = 16;
constexpr std::size_t kPoolSize = 4;

uint32_t hashmix(uint32_t value, uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

uint32_t mix(uint32_t x, uint32_t y) {
  uint32_t result = kMixMultL * x - kMixMultR * y;
  result ^= result >> kXShift;
  return result;
}

// SeedSequence(seed).generate_state(4, uint64).
std::array<uint64_t, 4> seed_sequence_state(uint64_t seed) {
  // The seed as little-endian 32-bit words (0 is one word); no allocation, as envs reseed on reset.
  std::array<uint32_t, 2> entropy{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  const std::size_t entropy_words = (seed >> 32) != 0 ? 2 : 1;

  std::array<uint32_t, kPoolSize> pool{};
  uint32_t hash_const = kInitA;
  for (std::size_t i = 0; i < kPoolSize; ++i) pool[i] = hashmix(i < entropy_words ? entropy[i] : 0, hash_const);
  for (std::size_t src = 0; src < kPoolSize; ++src) {
    for (std::size_t dst = 0; dst < kPoolSize; ++dst) {
      if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src], hash_const));
    }
  }
  // (SeedSequence mixes words beyond the pool's four in a second pass; a 64-bit seed has at most two.)

  // Eight 32-bit words from the pool, read as four little-endian 64-bit words.
  std::array<uint64_t, 4> words{};
  uint32_t hash = kInitB;
  for (std::size_t i = 0; i < 8; ++i) {
    uint32_t value = pool[i % kPoolSize];
    value ^= hash;
    hash *= kMultB;
    value *= hash;
    value ^= value >> kXShift;
    words[i / 2] |= static_cast<uint64_t>(value) << (32 * (i % 2));
  }
  return words;
}

// x with its sign bit flipped when flip is 1 (-x), unchanged when it is 0.
double with_sign_flipped(double x, uint64_t flip) {
  uint64_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  bits ^= flip << 63;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

}  // namespace

void NumpyGenerator::seed_with(uint64_t seed) {
  const std::array<uint64_t, 4> w = seed_sequence_state(seed);
  const u128 initial_state = (static_cast<u128>(w[0]) << 64) | w[1];
  const u128 sequence = (static_cast<u128>(w[2]) << 64) | w[3];
  // pcg's srandom: the increment is odd; one step, add the initial state, one more step.
  state_ = 0;
  increment_ = (sequence << 1) | 1;
  state_ = state_ * kMultiplier + increment_;
  state_ += initial_state;
  state_ = state_ * kMultiplier + increment_;
  has_u32_ = false;
  buffered_u32_ = 0;
}

NumpyGenerator::State NumpyGenerator::state() const {
  State s;
  s.words = {static_cast<uint64_t>(state_ >> 64), static_cast<uint64_t>(state_), static_cast<uint64_t>(increment_ >> 64),
             static_cast<uint64_t>(increment_)};
  s.has_u32 = has_u32_;
  s.u32 = buffered_u32_;
  return s;
}

void NumpyGenerator::set_state(const State& s) {
  state_ = (static_cast<u128>(s.words[0]) << 64) | s.words[1];
  increment_ = (static_cast<u128>(s.words[2]) << 64) | s.words[3];
  has_u32_ = s.has_u32;
  buffered_u32_ = s.u32;
}

double NumpyGenerator::standard_normal() {
  using namespace ziggurat;
  for (;;) {
    const uint64_t bits = next_u64();
    const unsigned layer = static_cast<unsigned>(bits & 0xFF);
    const uint64_t magnitude = (bits >> 9) & 0x000FFFFFFFFFFFFFULL;  // 52 bits, exact as a double
    // Negated when bit 8 is set: the sign bit flipped, as -x does, without a branch that would be
    // mispredicted half the time.
    const double x = with_sign_flipped(static_cast<double>(magnitude) * kNormalW[layer], (bits >> 8) & 1);
    if (magnitude < kNormalK[layer]) return x;  // inside the layer's rectangle: most draws
    if (layer == 0) {
      // The tail beyond r: Marsaglia's exponential rejection, on 1 - random() so that the log stays
      // finite. Its sign comes from bit 8 of the magnitude (bit 17 of the output), not the sign bit.
      for (;;) {
        const double dx = -kNormalInvR * std::log1p(-random());
        const double dy = -std::log1p(-random());
        if (dy + dy > dx * dx) return ((magnitude >> 8) & 1) != 0 ? -(kNormalR + dx) : kNormalR + dx;
      }
    }
    // The wedge between this layer's rectangle and the curve.
    const double height = (kNormalF[layer - 1] - kNormalF[layer]) * random() + kNormalF[layer];
    if (height < std::exp(-0.5 * x * x)) return x;
  }
}

double NumpyGenerator::normal(double loc, double scale) { return loc + scale * standard_normal(); }

double NumpyGenerator::standard_exponential() {
  using namespace ziggurat;
  for (;;) {
    const uint64_t bits = next_u64() >> 3;
    const unsigned layer = static_cast<unsigned>(bits & 0xFF);
    const uint64_t value = bits >> 8;  // 53 bits, exact as a double
    const double x = static_cast<double>(value) * kExponentialW[layer];
    if (value < kExponentialK[layer]) return x;
    // The tail beyond r is r plus an exponential (memorylessness).
    if (layer == 0) return kExponentialR - std::log1p(-random());
    const double height = (kExponentialF[layer - 1] - kExponentialF[layer]) * random() + kExponentialF[layer];
    if (height < std::exp(-x)) return x;
  }
}

double NumpyGenerator::exponential(double scale) { return scale * standard_exponential(); }

double box_muller_normal(NumpyGenerator& rng) {
  double u1 = rng.random();
  while (u1 <= 0.0) u1 = rng.random();
  const double u2 = rng.random();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace rlforge
