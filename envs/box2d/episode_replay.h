#pragma once
// Exact snapshots of Box2D envs by replay (private to envs/box2d). A Box2D world's contact and
// solver caches are not a vector of numbers one could set back, but the world is deterministic:
// the generator state at the start of the episode and the actions since rebuild it exactly.

#include <array>
#include <cstdint>
#include <vector>

#include "rlforge/envs/snapshot.h"

namespace rlforge::detail {

class EpisodeReplay {
 public:
  // `action_size`: floats per action for Box actions, 0 for one int64 (Discrete).
  explicit EpisodeReplay(int action_size) : action_size_(action_size) {
    floats_.reserve(action_size > 0 ? 1024 * action_size : 0);
    ints_.reserve(action_size > 0 ? 0 : 1024);
  }

  void start(const std::array<uint64_t, 4>& rng_state) {
    started_ = true;
    rng_state_ = rng_state;
    floats_.clear();
    ints_.clear();
  }
  void record(const void* action) {
    if (action_size_ > 0) {
      const auto* a = static_cast<const float*>(action);
      floats_.insert(floats_.end(), a, a + action_size_);
    } else {
      ints_.push_back(*static_cast<const int64_t*>(action));
    }
  }

  void write(SnapshotWriter& out) const {
    out.put<uint8_t>(started_ ? 1 : 0);
    out.put(rng_state_);
    out.put_vector(ints_);
    out.put_vector(floats_);
  }
  // Reads a snapshot; when it holds an episode, calls reset(rng_state) and then step(action)
  // for each recorded action (which record them again).
  template <class Reset, class Step>
  void replay(SnapshotReader& in, Reset&& reset, Step&& step) {
    const bool started = in.get<uint8_t>() != 0;
    const auto rng_state = in.get<std::array<uint64_t, 4>>();
    const auto ints = in.get_vector<int64_t>();
    const auto floats = in.get_vector<float>();
    if (!started) return;
    reset(rng_state);
    if (action_size_ > 0) {
      for (size_t i = 0; i + action_size_ <= floats.size(); i += action_size_) step(&floats[i]);
    } else {
      for (const int64_t& a : ints) step(&a);
    }
  }

 private:
  int action_size_;
  bool started_ = false;
  std::array<uint64_t, 4> rng_state_{};
  std::vector<int64_t> ints_;
  std::vector<float> floats_;
};

}  // namespace rlforge::detail
