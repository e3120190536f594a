#pragma once
// Acrobot-v1 (Sutton & Barto's "book" dynamics) with Gymnasium 1.x semantics: torque -1/0/+1,
// one RK4 step of dt 0.2, float64 state [theta1, theta2, dtheta1, dtheta2], observation
// [cos t1, sin t1, cos t2, sin t2, dt1, dt2]; terminated when the tip rises above the bar.

#include <array>

#include "rlforge/envs/env.h"

namespace rlforge {

class Acrobot final : public Env {
 public:
  Acrobot();

  bool has_state() const override { return true; }
  bool can_render() const override { return true; }
  RenderHints render_hints() const override { return {500, 500, 15}; }
  void render(Canvas& canvas) const override;
  std::vector<double> state() const override { return {s_[0], s_[1], s_[2], s_[3]}; }

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  void set_state_impl(const std::vector<double>& state) override;

 private:
  void write_observation(void* obs) const;
  std::array<double, 4> s_{};
};

}  // namespace rlforge
