// A plugin registering one new id and one that the built-in envs already use.
#include "rlforge/envs/plugin.h"

namespace {

class Nothing final : public rlforge::Env {
 public:
  Nothing() : Env(rlforge::EnvSpec{"x", rlforge::Space::box({1}, -1.0f, 1.0f), rlforge::Space::discrete(2), 10, {}}) {}

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override { static_cast<float*>(obs)[0] = 0; }
  rlforge::StepResult step_impl(const void*, void* obs) override {
    static_cast<float*>(obs)[0] = 0;
    return {};
  }
};

void register_duplicate(rlforge::EnvRegistry& registry) {
  for (const char* id : {"test/Fresh-v0", "CartPole-v1"}) {
    registry.add({id, "a test env", {}, [](const rlforge::ResolvedOptions&) { return std::make_unique<Nothing>(); }});
  }
}

}  // namespace

RLFORGE_PLUGIN(register_duplicate)
