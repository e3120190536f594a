#pragma once
// Base of the Box2D envs: exact snapshot()/restore() by replay. A Box2D world's contact and
// solver caches are not a vector of numbers one could set back, but the world is deterministic:
// the generator state at the start of the episode and the actions since rebuild it exactly.
// Subclasses call begin_episode() first thing in reset_impl (before any draw) and
// record_action() in step_impl.

#include <memory>

#include "rlforge/envs/env.h"

namespace rlforge {

namespace detail {
class EpisodeReplay;
}

class ReplaySnapshotEnv : public Env {
 public:
  ~ReplaySnapshotEnv() override;

 protected:
  explicit ReplaySnapshotEnv(EnvSpec spec);
  void begin_episode();
  void record_action(const void* action);
  void snapshot_impl(SnapshotWriter& out) const final;
  void restore_impl(SnapshotReader& in) final;

 private:
  std::unique_ptr<detail::EpisodeReplay> replay_;
};

}  // namespace rlforge
