#pragma once
// Acrobot-v1 (Sutton & Barto's "book" dynamics) with Gymnasium 1.x semantics: torque -1/0/+1,
// one RK4 step of dt 0.2, float64 state [theta1, theta2, dtheta1, dtheta2], observation
// [cos t1, sin t1, cos t2, sin t2, dt1, dt2]; terminated when the tip rises above the bar.
// The links' lengths, masses, centres of mass and moment of inertia are parameters with
// Gymnasium's names (LINK_LENGTH_1 as link_length_1, ...) and values. As in Gymnasium, the
// dynamics use link_length_1 but not link_length_2 (link 2 acts through its mass at
// link_com_pos_2), which only the picture uses; the goal test ("the tip above the bar") is
// -cos(t1) - cos(t1 + t2) > 1 whatever the lengths; the observation bounds depend on none of
// them.

#include <array>

#include "rlforge/envs/env.h"

namespace rlforge {

class Acrobot final : public Env {
 public:
  struct Params {
    double link_length_1 = 1.0;   // > 0
    double link_length_2 = 1.0;   // > 0; drawn only (see above)
    double link_mass_1 = 1.0;     // > 0
    double link_mass_2 = 1.0;     // > 0
    double link_com_pos_1 = 0.5;  // >= 0: the centre of mass of link 1, from its pivot
    double link_com_pos_2 = 0.5;  // >= 0: the centre of mass of link 2, from its pivot
    double link_moi = 1.0;        // > 0: each link's moment of inertia about its centre of mass
  };
  Acrobot();
  // Throws EnvError for a parameter outside its range.
  explicit Acrobot(Params params);

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
  Params params_;
  std::array<double, 4> s_{};
};

}  // namespace rlforge
