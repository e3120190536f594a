#pragma once
// MountainCarContinuous-v0 with Gymnasium 1.x dynamics: force in [-1, 1] (clipped), reward
// 100 on reaching the goal minus 0.1 * action^2 (of the unclipped action). Gymnasium keeps this
// env's state as float32 between steps and computes in float32 (NumPy 2 promotion rules); we do
// the same, which the reference trajectories confirm. Per step: velocity += force * power
// - 0.0025 * cos(3 position), with Gymnasium's power as a parameter.

#include "rlforge/envs/env.h"

namespace rlforge {

class MountainCarContinuous final : public Env {
 public:
  struct Params {
    double goal_velocity = 0.0;
    double power = 0.0015;  // >= 0: the push of action 1
  };
  MountainCarContinuous();
  // Throws EnvError for a parameter outside its range.
  explicit MountainCarContinuous(Params params);

  bool has_state() const override { return true; }
  bool can_render() const override { return true; }
  RenderHints render_hints() const override { return {600, 400, 30}; }
  void render(Canvas& canvas) const override;
  // [position, velocity]
  std::vector<double> state() const override { return {position_, velocity_}; }

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  void set_state_impl(const std::vector<double>& state) override;

 private:
  void write_observation(void* obs) const;
  Params params_;
  double position_ = 0, velocity_ = 0;
};

}  // namespace rlforge
