#include "keyboard_actions.h"

#include <memory>
#include <stdexcept>
#include <vector>

namespace rlforge::cli {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

struct Binding {
  const char* id_prefix;
  const char* help;
};

// Checked in order: the first prefix that matches an id wins, so longer names come first.
const std::vector<Binding> bindings = {
    {"CartPole", "left/right push the cart; with no key it is pushed left and right in turn"},
    {"MountainCarContinuous", "left/right push the car with full force; no key: no force"},
    {"MountainCar", "left/right accelerate the car; no key: no acceleration"},
    {"Pendulum", "left/right apply full torque counter-clockwise/clockwise"},
    {"Acrobot", "left/right apply torque -1/+1 at the joint"},
    {"LunarLanderContinuous", "up fires the main engine; left/right fire the side engine that pushes that way"},
    {"LunarLander", "up fires the main engine; left/right fire the side engine that pushes that way"},
    {"CarRacing", "left/right steer, up accelerates, down brakes"},
};

const Binding* binding_of(const std::string& id) {
  for (const Binding& b : bindings) {
    if (starts_with(id, b.id_prefix)) return &b;
  }
  return nullptr;
}

}  // namespace

std::string keyboard_help() {
  std::string text;
  for (const Binding& b : bindings) text += std::string("  ") + b.id_prefix + ": " + b.help + "\n";
  return text;
}

ActionChooser keyboard_actions(const EnvSpec& spec, HeldKeys held) {
  const Binding* binding = binding_of(spec.id);
  if (binding == nullptr) {
    std::string known;
    for (const Binding& b : bindings) known += std::string(known.empty() ? "" : ", ") + b.id_prefix;
    throw std::invalid_argument(spec.id + " has no keyboard mapping (action space " + spec.action_space.describe() +
                                "); keyboard play covers " + known);
  }
  const std::string family = binding->id_prefix;
  struct State {
    int64_t discrete = 0;
    std::vector<float> box;
    bool alternate = false;
  };
  auto state = std::make_shared<State>();
  state->box.resize(spec.action_space.is_box() ? spec.action_space.size() : 0);
  const bool discrete = spec.action_space.is_discrete();
  return [state, held, family, discrete](const void*) -> ActionRef {
    const bool left = held(Key::Left), right = held(Key::Right), up = held(Key::Up), down = held(Key::Down);
    auto choose = [&](int64_t action) { state->discrete = action; return ActionRef::discrete(state->discrete); };
    auto box = [&](std::vector<float> values) { state->box = std::move(values); return ActionRef::box(state->box); };
    if (family == "CartPole") {
      if (left != right) return choose(right ? 1 : 0);
      state->alternate = !state->alternate;
      return choose(state->alternate ? 1 : 0);
    }
    if (family == "MountainCar" || family == "Acrobot") return choose(left == right ? 1 : (left ? 0 : 2));
    if (family == "MountainCarContinuous") return box({left == right ? 0.0f : (left ? -1.0f : 1.0f)});
    if (family == "Pendulum") return box({left == right ? 0.0f : (left ? 2.0f : -2.0f)});
    if (family == "LunarLander" || family == "LunarLanderContinuous") {
      // Action 1 (lateral below -0.5) pushes the lander left, action 3 (above 0.5) right.
      if (discrete) return choose(up ? 2 : (left && !right ? 1 : (right && !left ? 3 : 0)));
      return box({up ? 1.0f : -1.0f, left == right ? 0.0f : (left ? -1.0f : 1.0f)});
    }
    // CarRacing. Discrete: 0 nothing, 1 right, 2 left, 3 gas, 4 brake (Gymnasium's order).
    if (discrete) return choose(left && !right ? 2 : (right && !left ? 1 : (up ? 3 : (down ? 4 : 0))));
    return box({left == right ? 0.0f : (left ? -1.0f : 1.0f), up ? 1.0f : 0.0f, down ? 0.8f : 0.0f});
  };
}

}  // namespace rlforge::cli
