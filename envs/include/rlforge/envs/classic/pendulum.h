#pragma once
// Pendulum-v1 with Gymnasium 1.x dynamics: torque in [-2, 2] (clipped), semi-implicit Euler with
// dt 0.05, reward -(angle^2 + 0.1 * speed^2 + 0.001 * torque^2), observation
// [cos(theta), sin(theta), theta_dot]. No termination: episodes end by the 200-step limit.
// g, m, l, max_torque and max_speed are parameters with Gymnasium's names and defaults; as in
// Gymnasium, the action space is [-max_torque, max_torque] and the observation's speed bound
// max_speed.

#include "rlforge/envs/env.h"

namespace rlforge {

class Pendulum final : public Env {
 public:
  struct Params {
    double g = 10.0;          // >= 0
    double m = 1.0;           // > 0: the mass at the rod's end
    double l = 1.0;           // > 0: the rod's length
    double max_torque = 2.0;  // > 0: actions are clipped to [-max_torque, max_torque]
    double max_speed = 8.0;   // > 0: the angular speed is clipped to [-max_speed, max_speed]
  };
  Pendulum();
  // Throws EnvError for a parameter outside its range.
  explicit Pendulum(Params params);

  bool has_state() const override { return true; }
  bool can_render() const override { return true; }
  RenderHints render_hints() const override { return {500, 500, 30}; }
  void render(Canvas& canvas) const override;
  // [theta, theta_dot]
  std::vector<double> state() const override { return {theta_, theta_dot_}; }
  // The torque applied in the last step (after clipping), for rendering.
  float last_torque() const { return last_torque_; }

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  void set_state_impl(const std::vector<double>& state) override;

 private:
  static Params checked(Params params);
  void write_observation(void* obs) const;
  Params params_;
  double theta_ = 0, theta_dot_ = 0;
  float last_torque_ = 0;
};

}  // namespace rlforge
