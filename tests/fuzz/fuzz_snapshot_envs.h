#pragma once
// The envs fuzz_env_snapshot restores into, picked by an input's first byte; make_snapshot_corpus
// writes its seeds with the same numbering.

#include <cstddef>
#include <memory>
#include <string>

#include "rlforge/envs/env.h"
#include "rlforge/envs/registry.h"

namespace rlforge::fuzz {

struct SnapshotEnv {
  const char* id;
  bool steps;  // Box2D envs are not stepped from arbitrary states: Box2D asserts on NaN bodies.
};
inline constexpr SnapshotEnv kEnvs[] = {
    {"CartPole-v1", true},       {"MountainCar-v0", true},           {"MountainCarContinuous-v0", true},
    {"Pendulum-v1", true},       {"Acrobot-v1", true},               {"LunarLander-v3", false},
    {"LunarLanderContinuous-v3", false}, {"BipedalWalker-v3", false}, {"CarRacing-v3", false},
};
inline constexpr size_t kEnvCount = sizeof(kEnvs) / sizeof(kEnvs[0]);

inline std::unique_ptr<Env> make_snapshot_env(const SnapshotEnv& env) {
  // CarRacing's fast drawing: the snapshot is the same, and each input runs 40x faster.
  return make_env(env.id, std::string(env.id) == "CarRacing-v3" ? Options{{"observation_render", "fast"}}
                                                                  : Options{});
}

}  // namespace rlforge::fuzz
