#pragma once
// The replay buffers fuzz_replay_buffer loads files into, picked by an input's first byte (its low
// bits; bit 7 asks for the file's checksums to be recomputed first); make_replay_corpus writes the
// seeds with the same numbering. Small, but covering each storage path: float observations with
// discrete actions and n-step windows over two envs, a prioritized buffer with Box actions (its
// priorities are per-slot data and its header has extra fields), and uint8 frame stacks (shared
// frames reassembled at sample time).

#include <cstddef>
#include <memory>

#include "rlforge/replay/prioritized_replay_buffer.h"
#include "rlforge/replay/replay_buffer.h"

namespace rlforge::fuzz {

inline constexpr std::size_t kReplayBufferCount = 3;

inline ReplayBufferConfig replay_fuzz_config(std::size_t which) {
  ReplayBufferConfig c;
  c.capacity = 24;
  switch (which % kReplayBufferCount) {
    case 0:
      c.num_envs = 2;
      c.observation_shape = {4};
      c.n_step = 3;
      break;
    case 1:
      c.observation_shape = {3};
      c.action_shape = {2};
      c.action_dtype = torch::kFloat32;
      break;
    default:
      c.num_envs = 2;
      c.observation_shape = {3, 4, 4};
      c.observation_dtype = torch::kUInt8;
      c.frame_stack = 3;
      c.n_step = 2;
      break;
  }
  return c;
}

inline std::unique_ptr<ReplayBuffer> make_replay_fuzz_buffer(std::size_t which) {
  if (which % kReplayBufferCount == 1) {
    return std::make_unique<PrioritizedReplayBuffer>(replay_fuzz_config(which), PrioritizedReplayConfig{});
  }
  return std::make_unique<ReplayBuffer>(replay_fuzz_config(which));
}

}  // namespace rlforge::fuzz
