#pragma once
// MountainCar-v0 (Moore 1990) with Gymnasium 1.x dynamics: three discrete pushes, float64 state,
// float32 observation [position, velocity]. Per step: velocity += (action - 1) * force
// - cos(3 position) * gravity, with Gymnasium's force and gravity as parameters.

#include "rlforge/envs/env.h"

namespace rlforge {

class MountainCar final : public Env {
 public:
  struct Params {
    double goal_velocity = 0.0;
    double force = 0.001;     // >= 0: the push of actions 0 and 2
    double gravity = 0.0025;  // >= 0: the slope's pull
  };
  MountainCar();
  // Throws EnvError for a parameter outside its range.
  explicit MountainCar(Params params);

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
