#pragma once
// How a run's seed s splits the seed space, so that no evaluation starts an episode that training
// also started (a leak that flatters the agent):
//   training        env i of the run's VectorEnv resets with seed s + i (i < num_envs);
//   validation      the in-training evaluations, which select best.pt: s + 1,000,000 + i;
//   held-out test   `rlforge eval` unless --seed is given: s + 2,000,000 + i.
// The ranges stay disjoint for runs of fewer than a million envs or evaluation episodes.

#include <cstdint>

namespace rlforge::seeds {

inline constexpr std::uint64_t kValidationOffset = 1'000'000;
inline constexpr std::uint64_t kTestOffset = 2'000'000;

constexpr std::uint64_t training(std::uint64_t run_seed) { return run_seed; }
constexpr std::uint64_t validation(std::uint64_t run_seed) { return run_seed + kValidationOffset; }
constexpr std::uint64_t test(std::uint64_t run_seed) { return run_seed + kTestOffset; }

}  // namespace rlforge::seeds
