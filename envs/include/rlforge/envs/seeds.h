#pragma once
// How a run's seed s splits the seed space, so that no evaluation starts an episode that training
// also started (a leak that flatters the agent):
//   training        env i of the run's VectorEnv resets with seed s + i (i < num_envs);
//   validation      the in-training evaluations, which select best.pt: s + 1,000,000 + i;
//   held-out test   the test evaluation at the end of a run (summary.yaml's `test`) and
//                   `rlforge eval` unless --seed is given: s + 2,000,000 + i;
//   stress          `rlforge stress` (every cell of a suite): s + 3,000,000 + i;
//   rank K > 0      of a data-parallel run trains its env i on s + K * 10,000,019 + i.
// The ranges stay disjoint for runs of fewer than a million envs or evaluation episodes.

#include <cstdint>

namespace rlforge::seeds {

inline constexpr std::uint64_t kValidationOffset = 1'000'000;
inline constexpr std::uint64_t kTestOffset = 2'000'000;
inline constexpr std::uint64_t kStressOffset = 3'000'000;
// Past the test range, and prime, so that ranks' seeds do not line up with other runs' ranges.
inline constexpr std::uint64_t kRankStride = 10'000'019;

constexpr std::uint64_t training(std::uint64_t run_seed) { return run_seed; }
constexpr std::uint64_t validation(std::uint64_t run_seed) { return run_seed + kValidationOffset; }
constexpr std::uint64_t test(std::uint64_t run_seed) { return run_seed + kTestOffset; }
constexpr std::uint64_t stress(std::uint64_t run_seed) { return run_seed + kStressOffset; }
// A seed mixed with a stream (SplitMix64's finaliser): generators that reseed from the same reset
// seed (a perturbation wrapper, domain randomisation) draw neither the simulator's numbers nor
// each other's.
constexpr std::uint64_t mixed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t x = seed ^ stream;
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
// The seed rank K of a data-parallel run trains with (rank 0: the run's own).
constexpr std::uint64_t rank(std::uint64_t run_seed, int rank) {
  return run_seed + static_cast<std::uint64_t>(rank) * kRankStride;
}

}  // namespace rlforge::seeds
