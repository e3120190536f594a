#pragma once
// LunarLander-v3 and LunarLanderContinuous-v3 with Gymnasium 1.x's constants, engine impulses,
// reward shaping, termination rules, observation layout and draws of randomness, on Box2D 2.4
// (Gymnasium runs Box2D 2.3: single trajectories drift apart, episode statistics agree; see
// tests/envs/test_lunar_lander.cpp).
//
// Observation (8 floats): x and y relative to the pad (scaled by half the viewport), x and y
// velocity, angle, angular velocity, and whether the right (index 6) and left (7) leg touch the
// ground. Discrete actions: 0 nothing, 1 left orientation engine, 2 main engine, 3 right
// orientation engine. Continuous actions [main, lateral] in [-1, 1]: the main engine fires
// above 0 at 50-100% power, a side engine when |lateral| > 0.5.
//
// There is no state()/set_state(): the physical state includes the terrain and Box2D's contact
// and solver caches, which a vector of numbers cannot restore exactly. snapshot()/restore() are
// exact instead: they replay the episode's actions from its starting generator state.

#include <array>
#include <memory>
#include <vector>

#include "rlforge/envs/box2d/replay_snapshot_env.h"

class b2World;
class b2Body;

namespace rlforge {

namespace detail {
class GroundContacts;
}

class LunarLander final : public ReplaySnapshotEnv {
 public:
  struct Params {
    bool continuous = false;
    double gravity = -10.0;      // in (-12, 0)
    bool enable_wind = false;
    double wind_power = 15.0;    // peak wind force; Gymnasium advises [0, 20]
    double turbulence_power = 1.5;  // peak torque; Gymnasium advises [0, 2]
    // Gymnasium's MAIN_ENGINE_POWER and SIDE_ENGINE_POWER: the impulse of an engine at full
    // throttle. The fuel cost in the reward is of the throttle, so it does not change with them.
    // The angle is not wrapped (as in Gymnasium), so a lander that spins past a full turn leaves
    // the observation space's [-2 pi, 2 pi]; stronger side engines make that likelier.
    double main_engine_power = 13.0;  // >= 0
    double side_engine_power = 0.6;   // >= 0
  };
  // Throws EnvError for a gravity outside (-12, 0) or a negative wind, turbulence or engine
  // power.
  explicit LunarLander(Params params);
  ~LunarLander() override;

  bool can_render() const override { return true; }
  // Gymnasium's picture: black sky over white ground, the pad's yellow flags, the purple
  // lander and legs, and engine flames while an engine fires.
  void render(Canvas& canvas) const override;

  // What a renderer or a test needs to see, in world units (metres, radians).
  struct Pose {
    double x, y, angle;
  };
  Pose lander_pose() const;
  std::array<Pose, 2> leg_poses() const;           // right leg, left leg
  std::array<bool, 2> leg_contacts() const { return leg_contact_; }
  const std::vector<std::array<double, 2>>& terrain() const { return terrain_; }  // 11 points
  double helipad_x1() const { return kHelipadX1; }
  double helipad_x2() const { return kHelipadX2; }
  double helipad_y() const { return kHelipadY; }
  // Engine powers of the last step (0 when an engine did not fire), for drawing flames.
  double main_power() const { return main_power_; }
  double side_power() const { return side_power_; }  // signed: < 0 left engine, > 0 right

  static constexpr double kScale = 30.0;
  static constexpr double kViewportWidth = 600.0 / kScale, kViewportHeight = 400.0 / kScale;
  static constexpr double kHelipadX1 = 8.0, kHelipadX2 = 12.0, kHelipadY = kViewportHeight / 4;

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  void build_world();
  // One physics step with engine powers decoded from the action; returns the step's result.
  StepResult advance(double main_power, double side_direction, double side_power, void* obs);
  void write_observation(float* obs, std::array<double, 8>& state) const;

  Params params_;
  std::unique_ptr<b2World> world_;
  std::unique_ptr<detail::GroundContacts> contacts_;
  b2Body* lander_ = nullptr;
  std::array<b2Body*, 2> legs_{};
  std::array<bool, 2> leg_contact_{};
  bool game_over_ = false;
  bool has_prev_shaping_ = false;
  double prev_shaping_ = 0;
  int64_t wind_idx_ = 0, torque_idx_ = 0;
  double main_power_ = 0, side_power_ = 0;
  std::vector<std::array<double, 2>> terrain_;

};

}  // namespace rlforge
