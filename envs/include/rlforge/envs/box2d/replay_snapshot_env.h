#pragma once
// Base of the Box2D envs: exact snapshot()/restore() by replay. A Box2D world's contact and
// solver caches are not a vector of numbers one could set back, but the world is deterministic:
// the generator state at the start of the episode and the actions since rebuild it exactly.
// Subclasses call begin_episode() first thing in reset_impl (before any draw) and
// record_action() in step_impl.

#include <array>
#include <cstdint>
#include <vector>

#include "rlforge/envs/env.h"

namespace rlforge {

class ReplaySnapshotEnv : public Env {
 public:
  bool can_snapshot() const override { return true; }

 protected:
  explicit ReplaySnapshotEnv(EnvSpec spec);
  void begin_episode();
  void record_action(const void* action);
  void snapshot_impl(SnapshotWriter& out) const final;
  void restore_impl(SnapshotReader& in) final;

 private:
  int action_floats_;  // floats per Box action; 0 for Discrete (one int64)
  bool started_ = false;
  NumpyGenerator::State start_rng_{};
  std::vector<int64_t> discrete_actions_;
  std::vector<float> box_actions_;
};

}  // namespace rlforge
