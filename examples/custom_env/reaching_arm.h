#pragma once
// ReachingArm-v0: a two-link planar arm driven by joint torques, rewarded for keeping its
// fingertip close to a target placed at random each episode.

#include <rlforge/envs/registry.h>

namespace reaching_arm {

// Adds ReachingArm-v0 to `registry` (from a plugin's entry point or from a program's main).
void register_envs(rlforge::EnvRegistry& registry);

}  // namespace reaching_arm
