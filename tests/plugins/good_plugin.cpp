// A well-formed test plugin: one env, a walk on a line, that can be told to throw from any of
// its member functions (option throw_in: construct, reset, step, render).
#include <algorithm>
#include <stdexcept>

#include "rlforge/envs/plugin.h"
#include "rlforge/render/canvas.h"

namespace {

class PluginWalk final : public rlforge::Env {
 public:
  explicit PluginWalk(std::string throw_in)
      : Env(rlforge::EnvSpec{"test/PluginWalk-v0", rlforge::Space::box({1}, -1.0f, 1.0f),
                             rlforge::Space::discrete(2), 40, {}}),
        throw_in_(std::move(throw_in)) {
    if (throw_in_ == "construct") throw std::runtime_error("constructor refused");
  }
  bool has_state() const override { return true; }
  std::vector<double> state() const override { return {x_}; }
  bool can_render() const override { return true; }
  void render(rlforge::Canvas&) const override {
    if (throw_in_ == "render") throw std::runtime_error("render broke");
  }

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    if (throw_in_ == "reset") throw std::runtime_error("reset broke");
    x_ = rng().uniform(-0.5, 0.5);
    static_cast<float*>(obs)[0] = static_cast<float>(x_);
  }
  rlforge::StepResult step_impl(const void* action, void* obs) override {
    if (throw_in_ == "step") throw std::out_of_range("step broke");
    x_ = std::clamp(x_ + (*static_cast<const int64_t*>(action) == 1 ? 0.1 : -0.1), -1.0, 1.0);
    static_cast<float*>(obs)[0] = static_cast<float>(x_);
    return {-std::abs(x_), x_ <= -1.0 || x_ >= 1.0, false};
  }
  void set_state_impl(const std::vector<double>& state) override {
    check_state_size(state, 1);
    x_ = state[0];
  }

 private:
  std::string throw_in_;
  double x_ = 0;
};

void register_walk(rlforge::EnvRegistry& registry) {
  registry.add({"test/PluginWalk-v0", "a walk on a line, from a test plugin",
                {{"throw_in", std::string(), "member function that throws (construct, reset, step, render)"}},
                [](const rlforge::ResolvedOptions& o) { return std::make_unique<PluginWalk>(o.get_string("throw_in")); }});
}

}  // namespace

RLFORGE_PLUGIN(register_walk)
