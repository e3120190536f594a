// A plugin whose registration function throws after registering one env.
#include <stdexcept>

#include "rlforge/envs/plugin.h"

namespace {

void register_then_throw(rlforge::EnvRegistry& registry) {
  registry.add({"test/HalfDone-v0", "never completes", {}, [](const rlforge::ResolvedOptions&) {
                  return std::unique_ptr<rlforge::Env>();
                }});
  throw std::runtime_error("configuration file not found");
}

}  // namespace

RLFORGE_PLUGIN(register_then_throw)
