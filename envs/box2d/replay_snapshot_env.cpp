#include "rlforge/envs/box2d/replay_snapshot_env.h"

#include <vector>

#include "episode_replay.h"

namespace rlforge {

ReplaySnapshotEnv::ReplaySnapshotEnv(EnvSpec spec) : Env(std::move(spec)) {
  const Space& actions = this->spec().action_space;
  replay_ = std::make_unique<detail::EpisodeReplay>(actions.is_box() ? static_cast<int>(actions.size()) : 0);
}

ReplaySnapshotEnv::~ReplaySnapshotEnv() = default;

void ReplaySnapshotEnv::begin_episode() { replay_->start(rng().state()); }

void ReplaySnapshotEnv::record_action(const void* action) { replay_->record(action); }

void ReplaySnapshotEnv::snapshot_impl(SnapshotWriter& out) const { replay_->write(out); }

void ReplaySnapshotEnv::restore_impl(SnapshotReader& in) {
  std::vector<uint8_t> obs(spec().observation_space.byte_size());
  replay_->replay(
      in,
      [&](const std::array<uint64_t, 4>& start) {
        rng().set_state(start);
        reset_impl(std::nullopt, obs.data());
      },
      [&](const void* action) { step_impl(action, obs.data()); });
}

}  // namespace rlforge
