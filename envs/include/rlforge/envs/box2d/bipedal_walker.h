#pragma once
// BipedalWalker-v3 and BipedalWalkerHardcore-v3 with Gymnasium 1.x's constants, terrain
// generator (grass; stumps, stairs and pits in hardcore), motors, lidar, reward and termination
// rules, and the same draws of randomness in the same order, on Box2D 2.4 (Gymnasium runs 2.3:
// single trajectories drift apart, episode statistics agree; tests/envs/test_bipedal_walker.cpp).
//
// Observation (24 floats): hull angle, angular velocity, x and y velocity; per leg (hip, knee):
// joint angles and speeds and whether the lower leg touches the ground; 10 lidar fractions.
// Actions: 4 motor commands in [-1, 1] (hips and knees): the sign sets the direction, the
// magnitude the torque.
//
// As LunarLander, no state()/set_state(); snapshot()/restore() are exact, by replay.

#include <array>
#include <memory>
#include <vector>

#include "rlforge/envs/box2d/replay_snapshot_env.h"

class b2World;
class b2Body;
class b2RevoluteJoint;

namespace rlforge {

namespace detail {
class GroundContacts;
}

class BipedalWalker final : public ReplaySnapshotEnv {
 public:
  struct Params {
    bool hardcore = false;
    // Gymnasium's MOTORS_TORQUE: the largest torque of each hip and knee motor. The torque cost
    // in the reward is of the command (0.00035 x 80 x |action|), so it does not change with it.
    double motor_torque = 80.0;  // >= 0
    double hull_density = 5.0;   // > 0: the density of the hull's fixture
    // Multiplies the random term of the grass terrain's slope change; 0 gives flat grass. The
    // generator draws the same numbers at every value (hardcore's obstacles stay where they are).
    double terrain_roughness = 1.0;  // >= 0
  };
  // Throws EnvError for a parameter outside its range.
  explicit BipedalWalker(Params params);
  ~BipedalWalker() override;

  bool can_render() const override { return true; }
  // Gymnasium's picture: lavender sky, green terrain, white obstacles, the purple hull and legs,
  // the lidar rays and the start flag, in a 20 m window that follows the walker.
  void render(Canvas& canvas) const override;

  double hull_x() const;
  // The terrain's polyline, as Gymnasium's `env.terrain_x` and `env.terrain_y`.
  const std::vector<double>& terrain_x() const { return terrain_x_; }
  const std::vector<double>& terrain_y() const { return terrain_y_; }
  // x where the walker has finished the course.
  static double finish_x();

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  struct Ray {
    double fraction = 1;
    std::array<double, 2> from{}, to{};
  };
  void generate_terrain();
  void consume_cloud_draws();
  b2Body* static_polygon(const std::vector<std::array<double, 2>>& points);
  StepResult advance(const float* action, void* obs);

  Params params_;
  std::unique_ptr<b2World> world_;
  std::unique_ptr<detail::GroundContacts> contacts_;
  b2Body* hull_ = nullptr;
  std::array<b2Body*, 4> legs_{};  // upper, lower of the first leg, then of the second
  std::array<b2RevoluteJoint*, 4> joints_{};  // hip, knee, hip, knee
  std::array<bool, 4> ground_contact_{};
  bool game_over_ = false;
  bool has_prev_shaping_ = false;
  double prev_shaping_ = 0;
  std::vector<double> terrain_x_, terrain_y_;
  std::vector<std::vector<std::array<double, 2>>> obstacles_;  // polygons (hardcore), for drawing
  std::array<Ray, 10> lidar_{};
};

}  // namespace rlforge
