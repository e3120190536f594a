#pragma once
// CarRacing-v3 with Gymnasium 1.x's track generator, car dynamics (car_dynamics.py: rear-wheel
// drive, per-wheel friction limits, steering motors), tile rewards and termination rules, on
// Box2D 2.4 (Gymnasium runs 2.3). The generator and its draws are Gymnasium's, so a seed gives
// Gymnasium's track and colours (tests/envs/test_gymnasium_parity.cpp); trajectories drift apart
// with the Box2D version, episode statistics agree (tests/envs/test_car_racing.cpp).
//
// Observation: a 96x96x3 uint8 RGB picture, Gymnasium's "state_pixels": the 1000x800 window
// (grass, road, car, the bottom bar with speed, wheel speeds, steering and gyro indicators and
// the score) squeezed to 96x96, drawn through an OffscreenCanvas. The camera follows the car,
// rotated so that it drives up the picture, and zooms in over the first second.
// Continuous actions [steer, gas, brake] in [-1, 1] x [0, 1] x [0, 1] (steer -1 is full left;
// values outside the bounds behave as the nearest bound, as they do in Gymnasium). Discrete
// actions, Gymnasium's numbering: 0 nothing, 1 steer right (0.6), 2 steer left (0.6), 3 gas
// (0.2), 4 brake (0.8).
// Reward: -0.1 per step, +1000/N for each of the N tiles when a wheel first touches it, -100
// (and terminated) when the car leaves the playfield. Terminated too once every tile is
// visited, or when tile 0 is first touched after more than lap_complete_percent of the tiles:
// as in Gymnasium (its issue #1269), the car touches tile 0 at the start, so in effect a lap
// ends when every tile has been visited.
//
// As the other Box2D envs, no state()/set_state() (the world's contact and solver caches are not
// a vector of numbers); snapshot()/restore() are exact, by replay of the episode's actions.

#include <array>
#include <deque>
#include <memory>
#include <vector>

#include "rlforge/envs/box2d/replay_snapshot_env.h"
#include "rlforge/envs/image_resize.h"
#include "rlforge/render/canvas.h"

class b2World;
class b2Body;
class b2RevoluteJoint;

namespace rlforge {

class OffscreenCanvas;

class CarRacing final : public ReplaySnapshotEnv {
 public:
  struct Params {
    bool continuous = true;
    double lap_complete_percent = 0.95;  // in (0, 1]
    bool domain_randomize = false;       // new road, background and grass colours each reset
    // How the 96x96 observation is made. Gymnasium's way (the default): the scene drawn on the
    // 1000x800 window and shrunk by area averaging, as pygame's smoothscale does. Fast: drawn
    // at 96x96 directly, sharper edges and other pixels, several times cheaper.
    enum class ObservationRender { kGymnasium, kFast };
    ObservationRender observation_render = ObservationRender::kGymnasium;
    // Car dynamics (Gymnasium's car_dynamics.py): ENGINE_POWER, the power driving each rear
    // wheel at full gas, and FRICTION_LIMIT, the largest force a tyre transmits on road; on grass
    // it is 0.6 x friction_limit. road_friction is Gymnasium's per-tile road_friction (1 on every
    // tile): on road the limit is max(0.6, road_friction) x friction_limit, as in Gymnasium.
    double engine_power = 40000.0;  // >= 0; 100000000 x SIZE^2, SIZE = 0.02
    double friction_limit = 400.0;  // > 0; 1000000 x SIZE^2
    double road_friction = 1.0;     // > 0
  };
  // Throws EnvError for a lap_complete_percent outside (0, 1] or a car parameter outside its
  // range.
  explicit CarRacing(Params params);
  ~CarRacing() override;

  bool can_render() const override { return true; }
  // Gymnasium's rgb_array picture (the 1000x800 window scaled to the canvas, 600x400 in
  // Gymnasium), with skid marks: from the first render() on, the env keeps them.
  void render(Canvas& canvas) const override;

  // For tests and tools.
  int track_tiles() const { return static_cast<int>(tiles_.size()); }
  int tiles_visited() const { return tiles_visited_; }
  bool tile_visited(int tile) const { return tiles_.at(static_cast<size_t>(tile)).visited; }
  // Cumulative reward as Gymnasium keeps it (tile rewards minus 0.1 per step; the score shown).
  double score() const { return reward_; }
  struct Pose {
    double x, y, angle, speed;
  };
  Pose car_pose() const;
  // Steering joint angle of the front-left wheel and the rotation speed of each wheel.
  double steering_angle() const;
  std::array<double, 4> wheel_omegas() const;
  Color road_color() const;
  // Centre line points (x, y) of the track, one per tile.
  std::vector<std::array<double, 2>> track_points() const;
  // The track as Gymnasium's `env.track` holds it: (alpha, beta, x, y) per tile.
  std::vector<std::array<double, 4>> track() const;

  static constexpr int kStateW = 96, kStateH = 96;
  static constexpr double kScale = 6.0;
  static constexpr double kPlayfield = 2000.0 / kScale;  // |x| or |y| beyond: off the field

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  struct Tile {
    std::array<double, 3> color;
    bool visited = false;
  };
  struct TrackPoint {
    double alpha, beta, x, y;
  };
  struct RoadPoly {
    std::array<Point, 4> points;
    int tile;     // >= 0: drawn in that tile's (changing) colour
    Color color;  // otherwise (kerbs)
  };
  struct SkidMark {
    Color color;
    std::vector<Point> points;  // world
    bool grass;
  };
  struct Wheel {
    b2Body* body = nullptr;
    b2RevoluteJoint* joint = nullptr;
    double gas = 0, brake = 0, steer = 0, phase = 0, omega = 0;
    int tiles_touched = 0;
    // Skid marks (only while rendering): where the current skid began, the mark being drawn.
    bool skid_started = false;
    std::array<double, 2> skid_start{};
    std::shared_ptr<SkidMark> skid;
  };
  class Contacts;
  friend class Contacts;

  void pick_colors(bool randomize);
  bool create_track();
  void build_car(double angle, double x, double y);
  void car_controls(double steer, double gas, double brake);
  void car_step(double dt);
  StepResult advance(bool has_action, void* obs);
  void tile_contact(int tile, b2Body* other, bool begin);
  // Draws Gymnasium's window (1000x800) stretched over the whole canvas.
  void draw(Canvas& canvas, bool skid_marks) const;

  Params params_;
  std::unique_ptr<b2World> world_;
  std::unique_ptr<Contacts> contacts_;
  std::unique_ptr<OffscreenCanvas> obs_canvas_;
  std::unique_ptr<ImageResizer> obs_resizer_;  // the window down to 96x96 (Gymnasium's way only)
  std::vector<uint8_t> window_frame_, frame_;
  std::array<double, 3> road_color_{}, bg_color_{}, grass_color_{};
  std::vector<TrackPoint> track_;
  std::vector<Tile> tiles_;
  std::vector<RoadPoly> road_polys_;
  double start_alpha_ = 0;
  b2Body* hull_ = nullptr;
  std::array<Wheel, 4> wheels_{};  // front left, front right, rear left, rear right
  double reward_ = 0, prev_reward_ = 0, t_ = 0;
  int tiles_visited_ = 0;
  bool new_lap_ = false;
  mutable bool skid_marks_ = false;  // set by render(): from then on, skids are recorded
  std::deque<std::shared_ptr<SkidMark>> skids_;  // the last 30
};

}  // namespace rlforge
