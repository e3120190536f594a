#include "rlforge/envs/box2d/replay_snapshot_env.h"

namespace rlforge {

ReplaySnapshotEnv::ReplaySnapshotEnv(EnvSpec spec) : Env(std::move(spec)) {
  const Space& actions = this->spec().action_space;
  action_floats_ = actions.is_box() ? static_cast<int>(actions.size()) : 0;
  // Room for a typical episode, so recording does not allocate while stepping.
  if (action_floats_ > 0) {
    box_actions_.reserve(1024 * static_cast<size_t>(action_floats_));
  } else {
    discrete_actions_.reserve(1024);
  }
}

void ReplaySnapshotEnv::begin_episode() {
  started_ = true;
  start_rng_ = rng().state();
  discrete_actions_.clear();
  box_actions_.clear();
}

void ReplaySnapshotEnv::record_action(const void* action) {
  if (action_floats_ > 0) {
    const auto* a = static_cast<const float*>(action);
    box_actions_.insert(box_actions_.end(), a, a + action_floats_);
  } else {
    discrete_actions_.push_back(*static_cast<const int64_t*>(action));
  }
}

void ReplaySnapshotEnv::snapshot_impl(SnapshotWriter& out) const {
  out.put<uint8_t>(started_ ? 1 : 0);
  out.put_generator(start_rng_);
  out.put_vector(discrete_actions_);
  out.put_vector(box_actions_);
}

void ReplaySnapshotEnv::restore_impl(SnapshotReader& in) {
  const bool started = in.get<uint8_t>() != 0;
  const auto start_rng = in.get_generator();
  const auto discrete = in.get_vector<int64_t>();
  const auto box = in.get_vector<float>();
  if (!started) return;
  // Replaying records the episode again, as it goes.
  std::vector<uint8_t> obs(spec().observation_space.byte_size());
  rng().set_state(start_rng);
  reset_impl(std::nullopt, obs.data());
  if (action_floats_ > 0) {
    for (size_t i = 0; i + action_floats_ <= box.size(); i += action_floats_) step_impl(&box[i], obs.data());
  } else {
    for (const int64_t& a : discrete) step_impl(&a, obs.data());
  }
}

}  // namespace rlforge
