#pragma once
// A test env with image observations, shared by the supervised and semi-supervised tests.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/envs/registry.h"

namespace rlforge::testing {

// A bright 8x8 square on a noisy 36x36 frame moves 4 pixels up, down, left or right with the
// action (clamped at the edges); episodes of 12 steps. Only a pair of frames tells the action, so
// inverse dynamics beats chance (1/4) only by reading the frames.
class MovingSquareEnv final : public Env {
 public:
  MovingSquareEnv() : Env(make_spec()) {}
  // Checkpoints snapshot the envs. (The frame's noise is not state: a restored env draws anew.)
  bool has_state() const override { return true; }
  std::vector<double> state() const override { return {double(t_), double(x_), double(y_)}; }

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    t_ = 0;
    x_ = 8 + static_cast<int>(rng().integers(13));
    y_ = 8 + static_cast<int>(rng().integers(13));
    draw(obs);
  }
  StepResult step_impl(const void* action, void* obs) override {
    const int64_t a = *static_cast<const int64_t*>(action);
    static const int dx[] = {0, 0, -4, 4}, dy[] = {-4, 4, 0, 0};
    x_ = std::clamp(x_ + dx[a], 0, 28);
    y_ = std::clamp(y_ + dy[a], 0, 28);
    ++t_;
    draw(obs);
    return {a == 3 ? 1.0 : 0.0, t_ >= 12, false};
  }
  void set_state_impl(const std::vector<double>& state) override {
    check_state_size(state, 3);
    t_ = static_cast<int>(state[0]);
    x_ = static_cast<int>(state[1]);
    y_ = static_cast<int>(state[2]);
  }

 private:
  static EnvSpec make_spec() {
    EnvSpec spec;
    spec.id = "MovingSquare-v0";
    spec.observation_space = Space::box({36, 36, 1}, 0.0f, 255.0f, DType::UInt8);
    spec.action_space = Space::discrete(4);
    spec.max_episode_steps = 12;
    return spec;
  }
  void draw(void* obs) {
    auto* pixels = static_cast<uint8_t*>(obs);
    for (int i = 0; i < 36 * 36; ++i) pixels[i] = static_cast<uint8_t>(rng().integers(48));
    for (int y = y_; y < y_ + 8; ++y) {
      for (int x = x_; x < x_ + 8; ++x) pixels[y * 36 + x] = 220;
    }
  }
  int t_ = 0, x_ = 0, y_ = 0;
};


// Registers MovingSquare-v0 once.
inline void register_moving_square() {
  if (!env_registry().contains("MovingSquare-v0")) {
    env_registry().add({"MovingSquare-v0", "a square moved by the action", {},
                        [](const ResolvedOptions&) { return std::make_unique<MovingSquareEnv>(); }});
  }
}

}  // namespace rlforge::testing
