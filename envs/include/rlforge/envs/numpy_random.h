#pragma once
// NumPy's default generator, bit for bit: what Gymnasium's `np_random(seed)` returns,
// `numpy.random.Generator(PCG64(SeedSequence(seed)))` (NumPy 1.17 and later), for the draws the
// envs and spaces make: random(), uniform(low, high), integers(low, high), standard_normal(),
// normal(loc, scale), standard_exponential() and exponential(scale). With it an env can start the
// episode Gymnasium starts for the same seed (issue: Gymnasium parity).
//
// Definitions followed (NumPy's public sources: numpy/random/bit_generator.pyx for SeedSequence,
// the PCG64 reference of O'Neill's pcg-cpp for the generator, distributions.c for the draws):
//   SeedSequence   the seed as little-endian 32-bit words, hashed into a pool of four words,
//                  expanded into four 64-bit words: PCG64's state (words 0-1) and increment (2-3);
//   PCG64          a 128-bit LCG, XSL-RR output; a 32-bit draw is the low half of a 64-bit output,
//                  the next 32-bit draw its high half;
//   random()       the top 53 bits of a 64-bit output, times 2^-53;
//   integers       Lemire's multiply-shift with rejection, on 32-bit draws when the range fits;
//   standard_normal, standard_exponential
//                  NumPy's ziggurat (256 layers, its tables: numpy_ziggurat_tables.cpp), one
//                  64-bit output per try, with its tail and wedge fallbacks drawing random().
//
// Every built-in env draws from this generator (Env::rng()), in Gymnasium's order, so that
// reset(seed) starts the episode Gymnasium starts; Space::sample draws as Gymnasium's spaces do.

#include <array>
#include <cstdint>
#include <stdexcept>

namespace rlforge {

class NumpyGenerator {
 public:
  explicit NumpyGenerator(uint64_t seed = 0) { seed_with(seed); }

  // As PCG64(SeedSequence(seed)).
  void seed_with(uint64_t seed);

  uint64_t next_u64() {
    state_ = state_ * kMultiplier + increment_;
    const auto high = static_cast<uint64_t>(state_ >> 64);
    const auto low = static_cast<uint64_t>(state_);
    const unsigned rotation = static_cast<unsigned>(state_ >> 122);
    const uint64_t x = high ^ low;
    return (x >> rotation) | (x << ((64 - rotation) & 63));
  }

  uint32_t next_u32() {
    if (has_u32_) {
      has_u32_ = false;
      return buffered_u32_;
    }
    const uint64_t next = next_u64();
    has_u32_ = true;
    buffered_u32_ = static_cast<uint32_t>(next >> 32);
    return static_cast<uint32_t>(next);
  }

  // Generator.random(): uniform in [0, 1).
  double random() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  // Generator.uniform(low, high).
  double uniform(double low, double high) { return low + (high - low) * random(); }

  // Generator.standard_normal(). One 64-bit output per try: its low 8 bits pick the layer, the
  // next the sign, the next 52 the magnitude (the top 3 are unused). About 7 tries in 1000
  // fall outside their layer's rectangle: a wedge test draws one random(), and a rejection tries
  // again; about 1 in 3900 lands in the base layer's tail (|x| > 3.6541528853610088), which draws
  // pairs of random() until one is accepted.
  double standard_normal();
  // Generator.normal(loc, scale): loc + scale * standard_normal().
  double normal(double loc, double scale);
  // Generator.standard_exponential() (method "zig"). One 64-bit output per try: bits 3-10 pick
  // the layer, the top 53 the value. About 11 tries in 1000 need a wedge test (one
  // random(); a rejection tries again); about 1 in 2200 lands in the tail (x > 7.6971174701310497),
  // which takes one random().
  double standard_exponential();
  // Generator.exponential(scale): scale * standard_exponential().
  double exponential(double scale);

  // Generator.integers(low, high): uniform in [low, high), int64 as NumPy's default dtype.
  int64_t integers(int64_t low, int64_t high) {
    if (high <= low) throw std::invalid_argument("NumpyGenerator::integers: high must be > low");
    const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low) - 1;  // inclusive
    return static_cast<int64_t>(static_cast<uint64_t>(low) + bounded(range));
  }
  // Generator.integers(high): uniform in [0, high).
  int64_t integers(int64_t high) { return integers(0, high); }

  // The whole state, for snapshots (exact resume): state and increment as four words, and the
  // buffered 32-bit half.
  struct State {
    std::array<uint64_t, 4> words{};
    bool has_u32 = false;
    uint32_t u32 = 0;
  };
  State state() const;
  void set_state(const State& s);

 private:
  using u128 = unsigned __int128;
  static constexpr u128 kMultiplier = (static_cast<u128>(2549297995355413924ULL) << 64) | 4865540595714422341ULL;

  // A uniform value in [0, range] (range inclusive), NumPy's random_bounded_uint64 unmasked.
  uint64_t bounded(uint64_t range) {
    if (range == 0) return 0;
    if (range <= 0xFFFFFFFFULL) {
      if (range == 0xFFFFFFFFULL) return next_u32();
      const uint32_t excl = static_cast<uint32_t>(range) + 1;
      uint64_t m = static_cast<uint64_t>(next_u32()) * excl;
      auto leftover = static_cast<uint32_t>(m);
      if (leftover < excl) {
        const uint32_t threshold = static_cast<uint32_t>(0xFFFFFFFFU - static_cast<uint32_t>(range)) % excl;
        while (leftover < threshold) {
          m = static_cast<uint64_t>(next_u32()) * excl;
          leftover = static_cast<uint32_t>(m);
        }
      }
      return m >> 32;
    }
    if (range == 0xFFFFFFFFFFFFFFFFULL) return next_u64();
    const uint64_t excl = range + 1;
    u128 m = static_cast<u128>(next_u64()) * excl;
    auto leftover = static_cast<uint64_t>(m);
    if (leftover < excl) {
      const uint64_t threshold = (0xFFFFFFFFFFFFFFFFULL - range) % excl;
      while (leftover < threshold) {
        m = static_cast<u128>(next_u64()) * excl;
        leftover = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  u128 state_ = 0, increment_ = 0;
  bool has_u32_ = false;
  uint32_t buffered_u32_ = 0;
};

// A standard normal by Box-Muller on two random() draws: not NumPy's (standard_normal() is), but
// reproducible from the generator's state. The perturbation wrappers (ObservationNoise,
// ActionNoise) draw their noise with it, which keeps their streams as they were before
// standard_normal() existed.
double box_muller_normal(NumpyGenerator& rng);

}  // namespace rlforge
