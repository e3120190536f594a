// The process-wide registry with the built-in envs. Kept apart from registry.cpp so that code
// using only EnvRegistry (a plugin linking rlforge_envs statically) does not pull every simulator
// and Box2D into its binary.
#include "rlforge/envs/registry.h"

namespace rlforge {

EnvRegistry& env_registry() {
  static EnvRegistry* registry = [] {
    auto* r = new EnvRegistry;
    register_classic_control_envs(*r);
    register_box2d_envs(*r);
    return r;
  }();
  return *registry;
}

std::unique_ptr<Env> make_env(const std::string& id, const Options& options) {
  return env_registry().make(id, options);
}

}  // namespace rlforge
