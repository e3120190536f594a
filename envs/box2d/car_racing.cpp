#include "rlforge/envs/box2d/car_racing.h"

#include "box2d_api.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "../param_checks.h"
#include "rlforge/render/offscreen_canvas.h"

namespace rlforge {

namespace {
// Gymnasium's car_racing.py.
constexpr double kScale = CarRacing::kScale;
constexpr double kTrackRad = 900.0 / kScale;  // the track is a deformed circle of this radius
constexpr double kPlayfield = CarRacing::kPlayfield;
constexpr double kFps = 50.0;
constexpr double kZoom = 2.7;
constexpr double kTrackDetailStep = 21.0 / kScale;
constexpr double kTrackTurnRate = 0.31;
constexpr double kTrackWidth = 40.0 / kScale;
constexpr double kBorder = 8.0 / kScale;
constexpr int kBorderMinCount = 4;
constexpr double kGrassDim = kPlayfield / 20.0;
constexpr int kCheckpoints = 12;
constexpr double kWindowW = 1000.0, kWindowH = 800.0;  // the picture is drawn at this size, then scaled

// Gymnasium's car_dynamics.py (lengths in units of kSize metres).
constexpr double kSize = 0.02;
constexpr double kEnginePower = 100000000 * kSize * kSize;
constexpr double kWheelMomentOfInertia = 4000 * kSize * kSize;
constexpr double kFrictionLimit = 1000000 * kSize * kSize;  // on road; 60% of it on grass
// The parameters' defaults are Gymnasium's constants, to the bit.
static_assert(CarRacing::Params{}.engine_power == kEnginePower);
static_assert(CarRacing::Params{}.friction_limit == kFrictionLimit);
constexpr double kWheelR = 27, kWheelW = 14;
constexpr double kWheelPos[4][2] = {{-55, +80}, {+55, +80}, {-55, -82}, {+55, -82}};
constexpr double kHullPoly1[4][2] = {{-60, +130}, {+60, +130}, {+60, +110}, {-60, +110}};
constexpr double kHullPoly2[4][2] = {{-15, +120}, {+15, +120}, {+20, +20}, {-20, 20}};
constexpr double kHullPoly3[8][2] = {{+25, +20}, {+50, -10}, {+50, -40}, {+20, -90},
                                     {-20, -90}, {-50, -40}, {-50, -10}, {-25, +20}};
constexpr double kHullPoly4[4][2] = {{-50, -120}, {+50, -120}, {+50, -90}, {-50, -90}};
constexpr Color kHullColor{204, 0, 0}, kWheelColor{0, 0, 0}, kWheelStripe{77, 77, 77}, kMudColor{102, 102, 0};
constexpr size_t kMaxSkidMarks = 30;

EnvSpec car_spec(bool continuous) {
  EnvSpec spec;
  spec.id = "CarRacing-v3";
  spec.observation_space = Space::box({CarRacing::kStateH, CarRacing::kStateW, 3}, 0.0f, 255.0f, DType::UInt8);
  spec.action_space = continuous ? Space::box({3}, {-1.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 1.0f}) : Space::discrete(5);
  spec.max_episode_steps = 1000;
  spec.reward_threshold = 900.0;
  return spec;
}

double sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }
// Python's index into a list of n: negative indices count from the end.
size_t wrap(long i, size_t n) { return static_cast<size_t>((i % static_cast<long>(n) + static_cast<long>(n)) % static_cast<long>(n)); }

Color to_color(const std::array<double, 3>& c) {
  // Gymnasium converts with int(): truncation.
  auto channel = [](double v) { return static_cast<uint8_t>(std::clamp(static_cast<int>(v), 0, 255)); };
  return {channel(c[0]), channel(c[1]), channel(c[2])};
}

b2Vec2 vec(double x, double y) { return b2Vec2(static_cast<float>(x), static_cast<float>(y)); }

// Seven-segment digits for the score: Gymnasium prints it with a 42-pixel bold font.
// Segments a (top), b, c (right, top to bottom), d (bottom), e, f (left, bottom to top), g (middle).
constexpr uint8_t kDigitSegments[10] = {0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f};
}  // namespace

class CarRacing::Contacts final : public b2ContactListener {
 public:
  explicit Contacts(CarRacing& env) : env_(env) {}
  void BeginContact(b2Contact* contact) override { update(contact, true); }
  void EndContact(b2Contact* contact) override { update(contact, false); }

 private:
  void update(b2Contact* contact, bool begin) {
    b2Fixture* a = contact->GetFixtureA();
    b2Fixture* b = contact->GetFixtureB();
    // Tile fixtures carry their index + 1; everything else 0.
    if (const std::uintptr_t tag = detail::fixture_tag(a); tag != 0) {
      env_.tile_contact(static_cast<int>(tag - 1), b->GetBody(), begin);
    } else if (const std::uintptr_t tag_b = detail::fixture_tag(b); tag_b != 0) {
      env_.tile_contact(static_cast<int>(tag_b - 1), a->GetBody(), begin);
    }
  }
  CarRacing& env_;
};

CarRacing::CarRacing(Params params) : ReplaySnapshotEnv(car_spec(params.continuous)), params_(params) {
  if (!(params.lap_complete_percent > 0.0 && params.lap_complete_percent <= 1.0)) {
    throw EnvError(id() + ": lap_complete_percent must be in (0, 1], got " +
                   std::to_string(params.lap_complete_percent));
  }
  detail::require_non_negative(id(), "engine_power", params.engine_power);
  detail::require_positive(id(), "friction_limit", params.friction_limit);
  detail::require_positive(id(), "road_friction", params.road_friction);
  contacts_ = std::make_unique<Contacts>(*this);
  if (params.observation_render == Params::ObservationRender::kGymnasium) {
    obs_canvas_ = std::make_unique<OffscreenCanvas>(static_cast<int>(kWindowW), static_cast<int>(kWindowH));
    obs_resizer_ = std::make_unique<ImageResizer>(static_cast<int>(kWindowH), static_cast<int>(kWindowW), kStateH,
                                                  kStateW, 3, ImageResizer::Rounding::kDown);
  } else {
    obs_canvas_ = std::make_unique<OffscreenCanvas>(kStateW, kStateH);
  }
  pick_colors(false);  // randomised colours are drawn by each reset, after seeding
}

CarRacing::~CarRacing() {
  world_.reset();  // before the contact listener it points to
}

void CarRacing::pick_colors(bool randomize) {
  if (!randomize) {
    road_color_ = {102, 102, 102};
    bg_color_ = {102, 204, 102};
    grass_color_ = {102, 230, 102};
    return;
  }
  NumpyGenerator& r = rng();
  for (double& c : road_color_) c = r.uniform(0.0, 210.0);
  for (double& c : bg_color_) c = r.uniform(0.0, 210.0);
  grass_color_ = bg_color_;
  grass_color_[r.integers(3)] += 20;
}

// Gymnasium's generator: 12 checkpoints at random radii around a circle; a pen steers from one
// to the next in steps of kTrackDetailStep, turning at most kTrackTurnRate per step, for up to
// five laps; one lap between two passes of the start angle is the track, kept if its ends meet.
bool CarRacing::create_track() {
  NumpyGenerator& r = rng();
  std::array<std::array<double, 3>, kCheckpoints> checkpoints{};  // alpha, x, y
  for (int c = 0; c < kCheckpoints; ++c) {
    const double noise = r.uniform(0.0, 2 * M_PI * 1 / kCheckpoints);
    double alpha = 2 * M_PI * c / kCheckpoints + noise;
    double rad = r.uniform(kTrackRad / 3, kTrackRad);
    if (c == 0) {
      alpha = 0;
      rad = 1.5 * kTrackRad;
    }
    if (c == kCheckpoints - 1) {
      alpha = 2 * M_PI * c / kCheckpoints;
      start_alpha_ = 2 * M_PI * (-0.5) / kCheckpoints;
      rad = 1.5 * kTrackRad;
    }
    checkpoints[c] = {alpha, rad * std::cos(alpha), rad * std::sin(alpha)};
  }

  double x = 1.5 * kTrackRad, y = 0, beta = 0;
  long dest_i = 0;
  int laps = 0;
  int no_freeze = 2500;
  bool visited_other_side = false;
  std::vector<TrackPoint> track;
  track.reserve(2500);
  while (true) {
    double alpha = std::atan2(y, x);
    if (visited_other_side && alpha > 0) {
      ++laps;
      visited_other_side = false;
    }
    if (alpha < 0) {
      visited_other_side = true;
      alpha += 2 * M_PI;
    }
    // The next checkpoint ahead of the pen's angle (wrapping once round the circle).
    double dest_x = 0, dest_y = 0;
    while (true) {
      bool failed = true;
      while (true) {
        const auto& cp = checkpoints[static_cast<size_t>(dest_i % kCheckpoints)];
        dest_x = cp[1];
        dest_y = cp[2];
        if (alpha <= cp[0]) {
          failed = false;
          break;
        }
        ++dest_i;
        if (dest_i % kCheckpoints == 0) break;
      }
      if (!failed) break;
      alpha -= 2 * M_PI;
    }
    const double r1x = std::cos(beta), r1y = std::sin(beta);
    const double p1x = -r1y, p1y = r1x;
    const double dest_dx = dest_x - x, dest_dy = dest_y - y;
    double proj = r1x * dest_dx + r1y * dest_dy;  // how far the checkpoint lies to the side
    while (beta - alpha > 1.5 * M_PI) beta -= 2 * M_PI;
    while (beta - alpha < -1.5 * M_PI) beta += 2 * M_PI;
    const double prev_beta = beta;
    proj *= kScale;
    if (proj > 0.3) beta -= std::min(kTrackTurnRate, std::abs(0.001 * proj));
    if (proj < -0.3) beta += std::min(kTrackTurnRate, std::abs(0.001 * proj));
    x += p1x * kTrackDetailStep;
    y += p1y * kTrackDetailStep;
    track.push_back({alpha, prev_beta * 0.5 + beta * 0.5, x, y});
    if (laps > 4) break;
    if (--no_freeze == 0) break;
  }

  // The last complete lap: between the last two passes of the start angle (searching back).
  long i1 = -1, i2 = -1;
  for (long i = static_cast<long>(track.size()) - 1;; --i) {
    if (i <= 0) return false;
    const bool through_start = track[i].alpha > start_alpha_ && track[i - 1].alpha <= start_alpha_;
    if (through_start && i2 == -1) {
      i2 = i;
    } else if (through_start && i1 == -1) {
      i1 = i;
      break;
    }
  }
  if (i2 - 1 <= i1) return false;
  track = std::vector<TrackPoint>(track.begin() + i1, track.begin() + (i2 - 1));

  // Keep it only when its two ends join without a sideways jump longer than one step.
  const double first_perp_x = std::cos(track[0].beta), first_perp_y = std::sin(track[0].beta);
  const double dx = first_perp_x * (track[0].x - track.back().x);
  const double dy = first_perp_y * (track[0].y - track.back().y);
  if (std::sqrt(dx * dx + dy * dy) > kTrackDetailStep) return false;

  // Red and white kerbs where the track turns the same way, sharply enough, for several steps.
  const size_t n = track.size();
  std::vector<char> border(n, 0);
  for (size_t i = 0; i < n; ++i) {
    bool good = true;
    double oneside = 0;
    for (int neg = 0; neg < kBorderMinCount; ++neg) {
      const double b1 = track[wrap(static_cast<long>(i) - neg, n)].beta;
      const double b2 = track[wrap(static_cast<long>(i) - neg - 1, n)].beta;
      good = good && std::abs(b1 - b2) > kTrackTurnRate * 0.2;
      oneside += sign(b1 - b2);
    }
    good = good && std::abs(oneside) == kBorderMinCount;
    border[i] = good;
  }
  // Spread each kerb over the steps before it (in place, in order, as Gymnasium does).
  for (size_t i = 0; i < n; ++i) {
    for (int neg = 0; neg < kBorderMinCount; ++neg) {
      border[wrap(static_cast<long>(i) - neg, n)] |= border[i];
    }
  }

  // One sensor tile between each point and the one before it. Gymnasium gives each tile a
  // static body of its own; here they are fixtures of one static body, which behaves the same
  // (static bodies do not move, contacts are per fixture) and spares Box2D's solver a walk over
  // hundreds of bodies every step.
  tiles_.assign(n, Tile{});
  road_polys_.clear();
  b2BodyDef road_def;  // static
  b2Body* road = world_->CreateBody(&road_def);
  for (size_t i = 0; i < n; ++i) {
    const TrackPoint& p1 = track[i];
    const TrackPoint& p2 = track[wrap(static_cast<long>(i) - 1, n)];
    const double c1 = std::cos(p1.beta), s1 = std::sin(p1.beta);
    const double c2 = std::cos(p2.beta), s2 = std::sin(p2.beta);
    const Point road1_l{p1.x - kTrackWidth * c1, p1.y - kTrackWidth * s1};
    const Point road1_r{p1.x + kTrackWidth * c1, p1.y + kTrackWidth * s1};
    const Point road2_l{p2.x - kTrackWidth * c2, p2.y - kTrackWidth * s2};
    const Point road2_r{p2.x + kTrackWidth * c2, p2.y + kTrackWidth * s2};

    b2Vec2 vertices[4] = {vec(road1_l.x, road1_l.y), vec(road1_r.x, road1_r.y), vec(road2_r.x, road2_r.y),
                          vec(road2_l.x, road2_l.y)};
    b2PolygonShape shape;
    shape.Set(vertices, 4);
    b2FixtureDef fd;
    fd.shape = &shape;
    fd.isSensor = true;
    detail::set_fixture_tag(fd, static_cast<std::uintptr_t>(i) + 1);
    road->CreateFixture(&fd);

    const double shade = 0.01 * static_cast<double>(i % 3) * 255;
    tiles_[i].color = {road_color_[0] + shade, road_color_[1] + shade, road_color_[2] + shade};
    road_polys_.push_back({{road1_l, road1_r, road2_r, road2_l}, static_cast<int>(i), Color{}});
    if (border[i]) {
      const double side = sign(p2.beta - p1.beta);
      const double in = side * kTrackWidth, out = side * (kTrackWidth + kBorder);
      const Point b1_l{p1.x + in * c1, p1.y + in * s1};
      const Point b1_r{p1.x + out * c1, p1.y + out * s1};
      const Point b2_l{p2.x + in * c2, p2.y + in * s2};
      const Point b2_r{p2.x + out * c2, p2.y + out * s2};
      road_polys_.push_back({{b1_l, b1_r, b2_r, b2_l}, -1, i % 2 == 0 ? Color{255, 255, 255} : Color{255, 0, 0}});
    }
  }
  track_ = std::move(track);
  return true;
}

void CarRacing::build_car(double angle, double x, double y) {
  b2BodyDef hull_def;
  hull_def.type = b2_dynamicBody;
  hull_def.position = vec(x, y);
  hull_def.angle = static_cast<float>(angle);
  hull_ = world_->CreateBody(&hull_def);
  auto add_hull_part = [&](const double (*poly)[2], int count) {
    b2Vec2 v[8];
    for (int i = 0; i < count; ++i) v[i] = vec(poly[i][0] * kSize, poly[i][1] * kSize);
    b2PolygonShape shape;
    shape.Set(v, count);
    b2FixtureDef fd;
    fd.shape = &shape;
    fd.density = 1.0f;
    hull_->CreateFixture(&fd);
  };
  add_hull_part(kHullPoly1, 4);
  add_hull_part(kHullPoly2, 4);
  add_hull_part(kHullPoly3, 8);
  add_hull_part(kHullPoly4, 4);

  for (int k = 0; k < 4; ++k) {
    Wheel& w = wheels_[k];
    w = Wheel{};
    const double wx = kWheelPos[k][0], wy = kWheelPos[k][1];
    b2BodyDef def;
    def.type = b2_dynamicBody;
    // As in Gymnasium, the offset is not rotated by the car's angle: the joints pull the wheels
    // into place during the first steps.
    def.position = vec(x + wx * kSize, y + wy * kSize);
    def.angle = static_cast<float>(angle);
    w.body = world_->CreateBody(&def);
    b2PolygonShape shape;
    shape.SetAsBox(static_cast<float>(kWheelW * kSize), static_cast<float>(kWheelR * kSize));
    b2FixtureDef fd;
    fd.shape = &shape;
    fd.density = 0.1f;
    fd.restitution = 0.0f;
    fd.filter.categoryBits = 0x0020;
    fd.filter.maskBits = 0x0001;
    w.body->CreateFixture(&fd);

    b2RevoluteJointDef joint;
    joint.bodyA = hull_;
    joint.bodyB = w.body;
    joint.localAnchorA = vec(wx * kSize, wy * kSize);
    joint.localAnchorB.Set(0.0f, 0.0f);
    joint.referenceAngle = 0.0f;  // both bodies start at the same angle
    joint.enableMotor = true;
    joint.enableLimit = true;
    joint.maxMotorTorque = static_cast<float>(180 * 900 * kSize * kSize);
    joint.motorSpeed = 0.0f;
    joint.lowerAngle = -0.4f;
    joint.upperAngle = +0.4f;
    w.joint = static_cast<b2RevoluteJoint*>(world_->CreateJoint(&joint));
  }
}

void CarRacing::tile_contact(int tile, b2Body* other, bool begin) {
  Tile& t = tiles_[static_cast<size_t>(tile)];
  t.color = road_color_;  // any touch, begin or end, takes the shade off a tile (as in Gymnasium)
  Wheel* wheel = nullptr;
  for (Wheel& w : wheels_) {
    if (w.body == other) wheel = &w;
  }
  if (wheel == nullptr) return;
  if (!begin) {
    --wheel->tiles_touched;
    return;
  }
  ++wheel->tiles_touched;
  if (t.visited) return;
  t.visited = true;
  const auto n = static_cast<double>(track_.size());
  reward_ += 1000.0 / n;
  ++tiles_visited_;
  if (tile == 0 && tiles_visited_ / n > params_.lap_complete_percent) new_lap_ = true;
}

void CarRacing::car_controls(double steer, double gas, double brake) {
  wheels_[0].steer = wheels_[1].steer = steer;
  gas = std::clamp(gas, 0.0, 1.0);
  for (int k = 2; k < 4; ++k) {  // rear-wheel drive: gas rises by at most 0.1 per step
    wheels_[k].gas += std::min(gas - wheels_[k].gas, 0.1);
  }
  for (Wheel& w : wheels_) w.brake = brake;
}

void CarRacing::car_step(double dt) {
  for (Wheel& w : wheels_) {
    // The steering motor turns the wheel toward its target angle.
    const double diff = w.steer - w.joint->GetJointAngle();
    w.joint->SetMotorSpeed(static_cast<float>(sign(diff) * std::min(50.0 * std::abs(diff), 3.0)));

    // Gymnasium: the grass limit, or the largest of it and the road's (every tile has the same
    // road_friction).
    const bool grass = w.tiles_touched == 0;
    const double grass_limit = params_.friction_limit * 0.6;
    const double friction_limit =
        grass ? grass_limit : std::max(grass_limit, params_.friction_limit * params_.road_friction);

    const b2Vec2 forw = w.body->GetWorldVector(b2Vec2(0.0f, 1.0f));
    const b2Vec2 side = w.body->GetWorldVector(b2Vec2(1.0f, 0.0f));
    const b2Vec2 v = w.body->GetLinearVelocity();
    const double vf = static_cast<double>(forw.x) * v.x + static_cast<double>(forw.y) * v.y;
    const double vs = static_cast<double>(side.x) * v.x + static_cast<double>(side.y) * v.y;

    // Engine power into the wheel's rotational energy (5 keeps it finite at rest).
    w.omega +=
        dt * params_.engine_power * w.gas / kWheelMomentOfInertia / (std::abs(w.omega) + 5.0);
    if (w.brake >= 0.9) {
      w.omega = 0;
    } else if (w.brake > 0) {
      const double brake_force = 15;  // radians per second
      const double dir = -sign(w.omega);
      double val = brake_force * w.brake;
      if (std::abs(val) > std::abs(w.omega)) val = std::abs(w.omega);
      w.omega += dir * val;
    }
    w.phase += w.omega * dt;

    const double vr = w.omega * kWheelR * kSize;  // speed of the tyre's surface
    double f_force = -vf + vr;
    double p_force = -vs;
    // Gymnasium's damping coefficient (cuts oscillations when the difference is near zero).
    f_force *= 205000 * kSize * kSize;
    p_force *= 205000 * kSize * kSize;
    double force = std::sqrt(f_force * f_force + p_force * p_force);

    if (skid_marks_) {
      const b2Vec2 p = w.body->GetPosition();
      if (std::abs(force) > 2.0 * friction_limit) {
        if (w.skid && w.skid->grass == grass && w.skid->points.size() < 30) {
          w.skid->points.push_back({p.x, p.y});
        } else if (!w.skid_started) {
          w.skid_started = true;
          w.skid_start = {p.x, p.y};
        } else {
          w.skid = std::make_shared<SkidMark>(
              SkidMark{grass ? kMudColor : kWheelColor, {{w.skid_start[0], w.skid_start[1]}, {p.x, p.y}}, grass});
          skids_.push_back(w.skid);
          if (skids_.size() > kMaxSkidMarks) skids_.pop_front();
          w.skid_started = false;
        }
      } else {
        w.skid_started = false;
        w.skid.reset();
      }
    }

    if (std::abs(force) > friction_limit) {  // the tyre slides: the force is the friction limit
      f_force /= force;
      p_force /= force;
      force = friction_limit;
      f_force *= force;
      p_force *= force;
    }
    w.omega -= dt * f_force * kWheelR * kSize / kWheelMomentOfInertia;
    w.body->ApplyForceToCenter(vec(p_force * side.x + f_force * forw.x, p_force * side.y + f_force * forw.y), true);
  }
}

void CarRacing::reset_impl(std::optional<uint64_t>, void* obs) {
  begin_episode();
  // Gymnasium draws the colours first: road (3 values), background (3), which grass channel.
  if (params_.domain_randomize) pick_colors(true);
  world_.reset();  // a fresh world per episode
  world_ = std::make_unique<b2World>(b2Vec2(0.0f, 0.0f));
  world_->SetContactListener(contacts_.get());
  reward_ = prev_reward_ = 0;
  tiles_visited_ = 0;
  t_ = 0;
  new_lap_ = false;
  skids_.clear();
  while (!create_track()) {
  }
  build_car(track_[0].beta, track_[0].x, track_[0].y);
  // Gymnasium's reset ends with a step without action (no reward is reported for it, but the
  // tiles it touches count in the first step's reward).
  advance(false, obs);
}

StepResult CarRacing::step_impl(const void* action, void* obs) {
  record_action(action);
  if (params_.continuous) {
    const auto* a = static_cast<const float*>(action);
    // Gymnasium does not clip steer and brake, but beyond the bounds they act as the bounds do
    // (the steering joint stops at 0.4 rad either way; brake >= 0.9 locks, <= 0 does nothing).
    car_controls(-std::clamp(static_cast<double>(a[0]), -1.0, 1.0), static_cast<double>(a[1]),
                 std::clamp(static_cast<double>(a[2]), 0.0, 1.0));
  } else {
    const int64_t a = *static_cast<const int64_t*>(action);
    car_controls(a == 1 ? -0.6 : (a == 2 ? 0.6 : 0.0), a == 3 ? 0.2 : 0.0, a == 4 ? 0.8 : 0.0);
  }
  return advance(true, obs);
}

StepResult CarRacing::advance(bool has_action, void* obs) {
  const double dt = 1.0 / kFps;
  car_step(dt);
  world_->Step(static_cast<float>(dt), 6 * 30, 2 * 30);
  t_ += dt;

  draw(*obs_canvas_, false);
  if (obs_resizer_) {
    obs_canvas_->read_rgb(window_frame_);
    frame_.resize(obs_resizer_->out_bytes());
    obs_resizer_->resize(window_frame_.data(), frame_.data());
  } else {
    obs_canvas_->read_rgb(frame_);
  }
  std::memcpy(obs, frame_.data(), frame_.size());

  StepResult result;
  if (!has_action) return result;
  reward_ -= 0.1;
  result.reward = reward_ - prev_reward_;
  prev_reward_ = reward_;
  if (tiles_visited_ == static_cast<int>(track_.size()) || new_lap_) result.terminated = true;
  const b2Vec2 p = hull_->GetPosition();
  if (std::abs(p.x) > kPlayfield || std::abs(p.y) > kPlayfield) {
    result.terminated = true;
    result.reward = -100;
  }
  return result;
}

void CarRacing::draw(Canvas& canvas, bool skid_marks) const {
  const double cw = canvas.width(), ch = canvas.height();
  const double sx = cw / kWindowW, sy = ch / kWindowH;
  canvas.set_view(0.0, cw, 0.0, ch);  // canvas pixels, y up
  canvas.clear(Color{0, 0, 0});

  // Camera: the car at (W/2, H/4) of the window, its heading up, zooming in over the first second.
  const double zoom = 0.1 * kScale * std::max(1 - t_, 0.0) + kZoom * kScale * std::min(t_, 1.0);
  const double angle = -hull_->GetAngle();
  const double ca = std::cos(angle), sa = std::sin(angle);
  const b2Vec2 car = hull_->GetPosition();
  auto to_canvas = [&](double x, double y) {
    const double dx = x - car.x, dy = y - car.y;
    return Point{((ca * dx - sa * dy) * zoom + kWindowW / 2) * sx, ((sa * dx + ca * dy) * zoom + kWindowH / 4) * sy};
  };
  std::vector<Point> poly;
  poly.reserve(8);
  // Skips shapes entirely outside the canvas.
  auto fill = [&](Color color) {
    bool left = true, right = true, below = true, above = true;
    for (const Point& p : poly) {
      left = left && p.x < 0;
      right = right && p.x > cw;
      below = below && p.y < 0;
      above = above && p.y > ch;
    }
    if (!(left || right || below || above)) canvas.fill_polygon(poly, color);
  };

  poly = {to_canvas(kPlayfield, kPlayfield), to_canvas(kPlayfield, -kPlayfield), to_canvas(-kPlayfield, -kPlayfield),
          to_canvas(-kPlayfield, kPlayfield)};
  canvas.fill_polygon(poly, to_color(bg_color_));
  const Color grass = to_color(grass_color_);
  for (int gx = -20; gx < 20; gx += 2) {
    for (int gy = -20; gy < 20; gy += 2) {
      const double x0 = kGrassDim * gx, y0 = kGrassDim * gy;
      poly = {to_canvas(x0 + kGrassDim, y0), to_canvas(x0, y0), to_canvas(x0, y0 + kGrassDim),
              to_canvas(x0 + kGrassDim, y0 + kGrassDim)};
      fill(grass);
    }
  }
  for (const RoadPoly& rp : road_polys_) {
    poly.clear();
    for (const Point& p : rp.points) poly.push_back(to_canvas(p.x, p.y));
    fill(rp.tile >= 0 ? to_color(tiles_[static_cast<size_t>(rp.tile)].color) : rp.color);
  }

  if (skid_marks) {
    const double width = std::max(1.0, 2 * std::min(sx, sy));
    for (const auto& mark : skids_) {
      for (size_t i = 0; i + 1 < mark->points.size(); ++i) {
        const Point& a = mark->points[i];
        const Point& b = mark->points[i + 1];
        canvas.line(to_canvas(a.x, a.y), to_canvas(b.x, b.y), mark->color, width);
      }
    }
  }

  // The car: each wheel with its turning stripe, then the hull.
  auto body_poly = [&](const b2Body* body, std::initializer_list<Point> local) {
    poly.clear();
    for (const Point& v : local) {
      const b2Vec2 w = body->GetWorldPoint(vec(v.x, v.y));
      poly.push_back(to_canvas(w.x, w.y));
    }
  };
  const double ww = kWheelW * kSize, wr = kWheelR * kSize;
  for (const Wheel& w : wheels_) {
    body_poly(w.body, {{-ww, +wr}, {+ww, +wr}, {+ww, -wr}, {-ww, -wr}});
    fill(kWheelColor);
    const double a1 = w.phase, a2 = w.phase + 1.2;
    const double s1 = std::sin(a1), s2 = std::sin(a2);
    double c1 = std::cos(a1), c2 = std::cos(a2);
    if (s1 > 0 && s2 > 0) continue;
    if (s1 > 0) c1 = sign(c1);
    if (s2 > 0) c2 = sign(c2);
    body_poly(w.body, {{-ww, wr * c1}, {+ww, wr * c1}, {+ww, wr * c2}, {-ww, wr * c2}});
    fill(kWheelStripe);
  }
  auto hull_part = [&](const double (*part)[2], int count) {
    poly.clear();
    for (int i = 0; i < count; ++i) {
      const b2Vec2 w = hull_->GetWorldPoint(vec(part[i][0] * kSize, part[i][1] * kSize));
      poly.push_back(to_canvas(w.x, w.y));
    }
    fill(kHullColor);
  };
  hull_part(kHullPoly1, 4);
  hull_part(kHullPoly2, 4);
  hull_part(kHullPoly3, 8);
  hull_part(kHullPoly4, 4);

  // The bar at the bottom (window units, y measured up from the bottom edge).
  const double s = kWindowW / 40.0, h = kWindowH / 40.0;
  auto rect = [&](double x0, double x1, double y0, double y1, Color color) {
    poly = {{x0 * sx, y0 * sy}, {x1 * sx, y0 * sy}, {x1 * sx, y1 * sy}, {x0 * sx, y1 * sy}};
    canvas.fill_polygon(poly, color);
  };
  rect(0, kWindowW, 0, 5 * h, Color{0, 0, 0});
  auto vertical = [&](double place, double value, double scale, Color color) {
    if (std::abs(value) > 1e-4) rect(place * s, (place + 1) * s, h, h + h * scale * value, color);
  };
  auto horizontal = [&](double place, double value, double scale, Color color) {
    if (std::abs(value) > 1e-4) rect(place * s, (place + scale * value) * s, 2 * h, 4 * h, color);
  };
  const b2Vec2 v = hull_->GetLinearVelocity();
  const double true_speed = std::sqrt(static_cast<double>(v.x) * v.x + static_cast<double>(v.y) * v.y);
  vertical(5, true_speed, 0.02, Color{255, 255, 255});
  vertical(7, wheels_[0].omega, 0.01, Color{0, 0, 255});  // ABS sensors
  vertical(8, wheels_[1].omega, 0.01, Color{0, 0, 255});
  vertical(9, wheels_[2].omega, 0.01, Color{51, 0, 255});
  vertical(10, wheels_[3].omega, 0.01, Color{51, 0, 255});
  horizontal(20, wheels_[0].joint->GetJointAngle(), -10.0, Color{0, 255, 0});
  horizontal(30, hull_->GetAngularVelocity(), -0.8, Color{255, 0, 0});

  // The score, centred at (60, 50) of the window: digits 30 high on a 23.4 pitch, '-' on 14.
  char text[32];
  std::snprintf(text, sizeof text, "%04.0f", reward_);
  const double digit_pitch = 23.4, minus_pitch = 14.0, glyph_w = 18.0, glyph_h = 30.0, stroke = 5.5;
  double total = 0;
  for (const char* c = text; *c != '\0'; ++c) total += *c == '-' ? minus_pitch : digit_pitch;
  double x = 60 - total / 2;
  const double bottom = 50 - glyph_h / 2, middle = 50, top = 50 + glyph_h / 2;
  const Color white{255, 255, 255};
  for (const char* c = text; *c != '\0'; ++c) {
    const double gx = x + 2;
    if (*c == '-') {
      rect(gx, gx + 9, middle - stroke / 2, middle + stroke / 2, white);
      x += minus_pitch;
      continue;
    }
    x += digit_pitch;
    if (*c < '0' || *c > '9') continue;
    const uint8_t seg = kDigitSegments[*c - '0'];
    if (seg & 0x01) rect(gx, gx + glyph_w, top - stroke, top, white);
    if (seg & 0x02) rect(gx + glyph_w - stroke, gx + glyph_w, middle, top, white);
    if (seg & 0x04) rect(gx + glyph_w - stroke, gx + glyph_w, bottom, middle, white);
    if (seg & 0x08) rect(gx, gx + glyph_w, bottom, bottom + stroke, white);
    if (seg & 0x10) rect(gx, gx + stroke, bottom, middle, white);
    if (seg & 0x20) rect(gx, gx + stroke, middle, top, white);
    if (seg & 0x40) rect(gx, gx + glyph_w, middle - stroke / 2, middle + stroke / 2, white);
  }
}

void CarRacing::render(Canvas& canvas) const {
  if (hull_ == nullptr) throw EnvError(id() + ": render() before the first reset");
  skid_marks_ = true;
  draw(canvas, true);
}

CarRacing::Pose CarRacing::car_pose() const {
  if (hull_ == nullptr) throw EnvError(id() + ": no car before the first reset");
  const b2Vec2 p = hull_->GetPosition();
  const b2Vec2 v = hull_->GetLinearVelocity();
  return {p.x, p.y, hull_->GetAngle(), std::sqrt(static_cast<double>(v.x) * v.x + static_cast<double>(v.y) * v.y)};
}

double CarRacing::steering_angle() const { return wheels_[0].joint->GetJointAngle(); }

std::array<double, 4> CarRacing::wheel_omegas() const {
  return {wheels_[0].omega, wheels_[1].omega, wheels_[2].omega, wheels_[3].omega};
}

Color CarRacing::road_color() const { return to_color(road_color_); }

std::vector<std::array<double, 4>> CarRacing::track() const {
  std::vector<std::array<double, 4>> out;
  out.reserve(track_.size());
  for (const TrackPoint& p : track_) out.push_back({p.alpha, p.beta, p.x, p.y});
  return out;
}

std::vector<std::array<double, 2>> CarRacing::track_points() const {
  std::vector<std::array<double, 2>> out;
  out.reserve(track_.size());
  for (const TrackPoint& p : track_) out.push_back({p.x, p.y});
  return out;
}

}  // namespace rlforge
