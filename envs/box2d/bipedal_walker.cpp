#include "rlforge/envs/box2d/bipedal_walker.h"

#include "box2d_api.h"

#include <algorithm>
#include <cmath>

#include "../param_checks.h"
#include "ground_contacts.h"
#include "rlforge/render/canvas.h"

namespace rlforge {

namespace {
constexpr double kFps = 50.0, kScale = 30.0;
// kMotorsTorque is the default motor torque; the reward's torque cost keeps it (see the header).
constexpr double kMotorsTorque = 80.0, kSpeedHip = 4.0, kSpeedKnee = 6.0;
constexpr double kLidarRange = 160.0 / kScale;
constexpr double kInitialRandom = 5.0;
constexpr double kLegDown = -8.0 / kScale, kLegW = 8.0 / kScale, kLegH = 34.0 / kScale;
constexpr double kViewportW = 600.0, kViewportH = 400.0;
constexpr double kTerrainStep = 14.0 / kScale;
constexpr int kTerrainLength = 200, kTerrainGrass = 10, kTerrainStartpad = 20;
constexpr double kTerrainHeight = kViewportH / kScale / 4;
constexpr double kFriction = 2.5;
constexpr uint16_t kGround = 0x0001, kWalker = 0x0020;
// Hull outline in pixels (x forward, y up).
constexpr double kHullPoly[5][2] = {{-30, 9}, {6, 9}, {34, 1}, {34, -8}, {-30, -8}};

EnvSpec walker_spec(bool hardcore) {
  EnvSpec spec;
  spec.id = hardcore ? "BipedalWalkerHardcore-v3" : "BipedalWalker-v3";
  const auto pi = static_cast<float>(M_PI);
  std::vector<float> low = {-pi, -5, -5, -5, -pi, -5, -pi, -5, -0.0f, -pi, -5, -pi, -5, -0.0f};
  std::vector<float> high = {pi, 5, 5, 5, pi, 5, pi, 5, 5, pi, 5, pi, 5, 5};
  low.resize(24, -1.0f);
  high.resize(24, 1.0f);
  spec.observation_space = Space::box({24}, low, high);
  spec.action_space = Space::box({4}, -1.0f, 1.0f);
  spec.max_episode_steps = hardcore ? 2000 : 1600;
  spec.observation_names = {"hull_angle", "hull_angular_velocity", "vel_x", "vel_y", "hip1_angle", "hip1_speed", "knee1_angle", "knee1_speed", "leg1_contact", "hip2_angle", "hip2_speed", "knee2_angle", "knee2_speed", "leg2_contact", "lidar0", "lidar1", "lidar2", "lidar3", "lidar4", "lidar5", "lidar6", "lidar7", "lidar8", "lidar9"};
  spec.reward_threshold = 300.0;
  return spec;
}

b2Vec2 vec(double x, double y) { return b2Vec2(static_cast<float>(x), static_cast<float>(y)); }

// The closest hit of a ray among ground fixtures (the walker's own parts are ignored).
class LidarCallback final : public b2RayCastCallback {
 public:
  float fraction = 1.0f;
  b2Vec2 point;
  float ReportFixture(b2Fixture* fixture, const b2Vec2& p, const b2Vec2&, float f) override {
    if ((fixture->GetFilterData().categoryBits & kGround) == 0) return -1.0f;
    fraction = f;
    point = p;
    return f;
  }
};
}  // namespace

BipedalWalker::BipedalWalker(Params params)
    : ReplaySnapshotEnv(walker_spec(params.hardcore)),
      params_(params),
      contacts_(std::make_unique<detail::GroundContacts>(&hull_, &game_over_)) {
  detail::require_non_negative_float(id(), "motor_torque", params.motor_torque);
  detail::require_positive_float(id(), "hull_density", params.hull_density);
  detail::require_non_negative(id(), "terrain_roughness", params.terrain_roughness);
  for (int k : {1, 3}) contacts_->watch(&legs_[k], &ground_contact_[k]);  // the lower legs
}

BipedalWalker::~BipedalWalker() { world_.reset(); }  // before the contact listener it points to

double BipedalWalker::finish_x() { return (kTerrainLength - kTerrainGrass) * kTerrainStep; }

double BipedalWalker::hull_x() const { return hull_ != nullptr ? hull_->GetPosition().x : 0.0; }

b2Body* BipedalWalker::static_polygon(const std::vector<std::array<double, 2>>& points) {
  b2BodyDef def;
  b2Body* body = world_->CreateBody(&def);
  std::vector<b2Vec2> v;
  for (const auto& p : points) v.push_back(vec(p[0], p[1]));
  b2PolygonShape shape;
  shape.Set(v.data(), static_cast<int>(v.size()));
  b2FixtureDef fd;
  fd.shape = &shape;
  fd.friction = static_cast<float>(kFriction);
  body->CreateFixture(&fd);
  obstacles_.push_back(points);
  return body;
}

// Gymnasium's terrain state machine: grass with a smooth random slope, and in hardcore after each
// grass stretch a stump, stairs or a pit, drawing from the generator in Gymnasium's order.
void BipedalWalker::generate_terrain() {
  enum State : int64_t { kGrassState, kStump, kStairs, kPit, kStates };
  NumpyGenerator& r = rng();
  int64_t state = kGrassState;
  double velocity = 0.0, y = kTerrainHeight, original_y = 0.0;
  int64_t counter = kTerrainStartpad;
  bool oneshot = false;
  int64_t stair_steps = 0, stair_width = 0, stair_height = 0;
  terrain_x_.clear();
  terrain_y_.clear();
  obstacles_.clear();
  const double ts = kTerrainStep;
  for (int i = 0; i < kTerrainLength; ++i) {
    const double x = i * ts;
    terrain_x_.push_back(x);
    if (state == kGrassState && !oneshot) {
      const double d = kTerrainHeight - y;
      velocity = 0.8 * velocity + 0.01 * (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0);
      // Drawn at every roughness, so that the draws after it stay the same.
      if (i > kTerrainStartpad)
        velocity += params_.terrain_roughness * (r.uniform(-1.0, 1.0) / kScale);
      y += velocity;
    } else if (state == kPit && oneshot) {
      counter = r.integers(3, 5);
      const double c = ts * static_cast<double>(counter);
      static_polygon({{{x, y}, {x + ts, y}, {x + ts, y - 4 * ts}, {x, y - 4 * ts}}});
      static_polygon({{{x + c, y}, {x + ts + c, y}, {x + ts + c, y - 4 * ts}, {x + c, y - 4 * ts}}});
      counter += 2;
      original_y = y;
    } else if (state == kPit && !oneshot) {
      y = original_y;
      if (counter > 1) y -= 4 * ts;
    } else if (state == kStump && oneshot) {
      counter = r.integers(1, 3);
      const double c = static_cast<double>(counter) * ts;
      static_polygon({{{x, y}, {x + c, y}, {x + c, y + c}, {x, y + c}}});
    } else if (state == kStairs && oneshot) {
      stair_height = r.random() > 0.5 ? 1 : -1;
      stair_width = r.integers(4, 5);
      stair_steps = r.integers(3, 5);
      original_y = y;
      for (int64_t s = 0; s < stair_steps; ++s) {
        const auto sw = static_cast<double>(stair_width), sh = static_cast<double>(stair_height);
        const auto sd = static_cast<double>(s);
        static_polygon({{{x + sd * sw * ts, y + sd * sh * ts},
                         {x + (1 + sd) * sw * ts, y + sd * sh * ts},
                         {x + (1 + sd) * sw * ts, y + (-1 + sd * sh) * ts},
                         {x + sd * sw * ts, y + (-1 + sd * sh) * ts}}});
      }
      counter = stair_steps * stair_width;
    } else if (state == kStairs && !oneshot) {
      const auto s = static_cast<double>(stair_steps * stair_width - counter - stair_height);
      const double n = s / static_cast<double>(stair_width);
      y = original_y + n * static_cast<double>(stair_height) * ts;
    }
    oneshot = false;
    terrain_y_.push_back(y);
    counter -= 1;
    if (counter == 0) {
      counter = r.integers(kTerrainGrass / 2, kTerrainGrass);
      if (state == kGrassState && params_.hardcore) {
        state = r.integers(1, kStates);
      } else {
        state = kGrassState;
      }
      oneshot = true;
    }
  }
  for (int i = 0; i + 1 < kTerrainLength; ++i) {
    b2BodyDef def;
    b2Body* body = world_->CreateBody(&def);
    b2EdgeShape edge;
    detail::set_segment(edge, vec(terrain_x_[i], terrain_y_[i]), vec(terrain_x_[i + 1], terrain_y_[i + 1]));
    b2FixtureDef fd;
    fd.shape = &edge;
    fd.friction = static_cast<float>(kFriction);
    fd.filter.categoryBits = kGround;
    body->CreateFixture(&fd);
  }
}

// Gymnasium places decorative clouds on every reset; only drawing uses them, but they consume
// draws, which the same order of randomness keeps.
void BipedalWalker::consume_cloud_draws() {
  for (int c = 0; c < kTerrainLength / 20; ++c) {
    rng().uniform(0.0, kTerrainLength);
    for (int a = 0; a < 5; ++a) {
      rng().uniform(0.0, 5 * kTerrainStep);
      rng().uniform(0.0, 5 * kTerrainStep);
    }
  }
}

void BipedalWalker::reset_impl(std::optional<uint64_t>, void* obs) {
  begin_episode();
  world_.reset();  // a fresh world per episode: replay from a snapshot rebuilds the same one
  world_ = std::make_unique<b2World>(b2Vec2(0.0f, -10.0f));
  world_->SetContactListener(contacts_.get());
  game_over_ = false;
  has_prev_shaping_ = false;
  ground_contact_ = {false, false, false, false};
  generate_terrain();
  consume_cloud_draws();

  const double init_x = kTerrainStep * kTerrainStartpad / 2, init_y = kTerrainHeight + 2 * kLegH;
  b2BodyDef hull_def;
  hull_def.type = b2_dynamicBody;
  hull_def.position = vec(init_x, init_y);
  hull_ = world_->CreateBody(&hull_def);
  {
    b2Vec2 v[5];
    for (int k = 0; k < 5; ++k) v[k] = vec(kHullPoly[k][0] / kScale, kHullPoly[k][1] / kScale);
    b2PolygonShape shape;
    shape.Set(v, 5);
    b2FixtureDef fd;
    fd.shape = &shape;
    fd.density = static_cast<float>(params_.hull_density);
    fd.friction = 0.1f;
    fd.restitution = 0.0f;
    fd.filter.categoryBits = kWalker;
    fd.filter.maskBits = kGround;
    hull_->CreateFixture(&fd);
  }
  hull_->ApplyForceToCenter(vec(rng().uniform(-kInitialRandom, kInitialRandom), 0.0), true);

  int k = 0;
  for (const double i : {-1.0, 1.0}) {
    b2FixtureDef fd;
    fd.density = 1.0f;
    fd.restitution = 0.0f;
    fd.filter.categoryBits = kWalker;
    fd.filter.maskBits = kGround;

    b2BodyDef upper_def;
    upper_def.type = b2_dynamicBody;
    upper_def.position = vec(init_x, init_y - kLegH / 2 - kLegDown);
    upper_def.angle = static_cast<float>(i * 0.05);
    b2Body* upper = world_->CreateBody(&upper_def);
    b2PolygonShape upper_box;
    upper_box.SetAsBox(static_cast<float>(kLegW / 2), static_cast<float>(kLegH / 2));
    fd.shape = &upper_box;
    upper->CreateFixture(&fd);
    b2RevoluteJointDef hip;
    hip.bodyA = hull_;
    hip.bodyB = upper;
    hip.localAnchorA = vec(0, kLegDown);
    hip.localAnchorB = vec(0, kLegH / 2);
    hip.referenceAngle = upper->GetAngle() - hull_->GetAngle();  // pybox2d sets it; C++ does not
    hip.enableMotor = true;
    hip.enableLimit = true;
    hip.maxMotorTorque = static_cast<float>(params_.motor_torque);
    hip.motorSpeed = static_cast<float>(i);
    hip.lowerAngle = -0.8f;
    hip.upperAngle = 1.1f;
    legs_[k] = upper;
    joints_[k] = static_cast<b2RevoluteJoint*>(world_->CreateJoint(&hip));
    ++k;

    b2BodyDef lower_def;
    lower_def.type = b2_dynamicBody;
    lower_def.position = vec(init_x, init_y - kLegH * 3 / 2 - kLegDown);
    lower_def.angle = static_cast<float>(i * 0.05);
    b2Body* lower = world_->CreateBody(&lower_def);
    b2PolygonShape lower_box;
    lower_box.SetAsBox(static_cast<float>(0.8 * kLegW / 2), static_cast<float>(kLegH / 2));
    fd.shape = &lower_box;
    lower->CreateFixture(&fd);
    b2RevoluteJointDef knee;
    knee.bodyA = upper;
    knee.bodyB = lower;
    knee.localAnchorA = vec(0, -kLegH / 2);
    knee.localAnchorB = vec(0, kLegH / 2);
    knee.referenceAngle = lower->GetAngle() - upper->GetAngle();
    knee.enableMotor = true;
    knee.enableLimit = true;
    knee.maxMotorTorque = static_cast<float>(params_.motor_torque);
    knee.motorSpeed = 1.0f;
    knee.lowerAngle = -1.6f;
    knee.upperAngle = -0.1f;
    legs_[k] = lower;
    joints_[k] = static_cast<b2RevoluteJoint*>(world_->CreateJoint(&knee));
    ++k;
  }
  // Gymnasium's reset ends with one step of zero action; its reward is dropped.
  const float zero[4] = {0, 0, 0, 0};
  advance(zero, obs);
}

StepResult BipedalWalker::step_impl(const void* action, void* obs) {
  record_action(action);
  return advance(static_cast<const float*>(action), obs);
}

StepResult BipedalWalker::advance(const float* action, void* obs) {
  double a[4];
  for (int j = 0; j < 4; ++j) a[j] = std::clamp(static_cast<double>(action[j]), -1.0, 1.0);
  for (int j = 0; j < 4; ++j) {
    const double sign = a[j] > 0 ? 1.0 : a[j] < 0 ? -1.0 : 0.0;
    // pybox2d's setters wake the bodies every step; Box2D 2.4's only when the value changes.
    for (b2Body* b : {joints_[j]->GetBodyA(), joints_[j]->GetBodyB()}) {
      if (!b->IsAwake()) b->SetAwake(true);
    }
    joints_[j]->SetMotorSpeed(static_cast<float>((j % 2 == 0 ? kSpeedHip : kSpeedKnee) * sign));
    joints_[j]->SetMaxMotorTorque(
        static_cast<float>(params_.motor_torque * std::min(1.0, std::abs(a[j]))));
  }
  world_->Step(static_cast<float>(1.0 / kFps), 6 * 30, 2 * 30);

  const b2Vec2 pos = hull_->GetPosition();
  const b2Vec2 vel = hull_->GetLinearVelocity();
  for (int i = 0; i < 10; ++i) {
    // The rays fan from straight down to 1.35 rad forward, fixed to the world, not the hull.
    LidarCallback ray;
    const b2Vec2 end = vec(pos.x + std::sin(1.5 * i / 10.0) * kLidarRange, pos.y - std::cos(1.5 * i / 10.0) * kLidarRange);
    ray.point = end;
    world_->RayCast(&ray, pos, end);
    lidar_[i] = {ray.fraction, {pos.x, pos.y}, {ray.point.x, ray.point.y}};
  }
  std::array<double, 24> s{};
  s[0] = hull_->GetAngle();
  s[1] = 2.0 * hull_->GetAngularVelocity() / kFps;
  s[2] = 0.3 * vel.x * (kViewportW / kScale) / kFps;
  s[3] = 0.3 * vel.y * (kViewportH / kScale) / kFps;
  for (int leg = 0; leg < 2; ++leg) {
    const int o = 4 + 5 * leg;
    s[o] = joints_[2 * leg]->GetJointAngle();
    s[o + 1] = joints_[2 * leg]->GetJointSpeed() / kSpeedHip;
    s[o + 2] = joints_[2 * leg + 1]->GetJointAngle() + 1.0;
    s[o + 3] = joints_[2 * leg + 1]->GetJointSpeed() / kSpeedKnee;
    s[o + 4] = ground_contact_[2 * leg + 1] ? 1.0 : 0.0;
  }
  for (int i = 0; i < 10; ++i) s[14 + i] = lidar_[i].fraction;
  auto* o = static_cast<float*>(obs);
  for (int i = 0; i < 24; ++i) o[i] = static_cast<float>(s[i]);

  // Moving forward pays (130 over the whole course), keeping the head level matters, torque costs.
  const double shaping = 130 * pos.x / kScale - 5.0 * std::abs(s[0]);
  double reward = has_prev_shaping_ ? shaping - prev_shaping_ : 0.0;
  prev_shaping_ = shaping;
  has_prev_shaping_ = true;
  for (int j = 0; j < 4; ++j) reward -= 0.00035 * kMotorsTorque * std::min(1.0, std::abs(a[j]));
  bool terminated = false;
  if (game_over_ || pos.x < 0) {
    reward = -100;
    terminated = true;
  }
  if (pos.x > finish_x()) terminated = true;
  return {reward, terminated, false};
}

void BipedalWalker::render(Canvas& canvas) const {
  if (hull_ == nullptr) throw EnvError(id() + ": render() before the first reset");
  const double width = kViewportW / kScale, height = kViewportH / kScale;
  const double left = std::max(0.0, hull_->GetPosition().x - width / 5);
  canvas.set_view(left, left + width, 0.0, height);
  canvas.clear(Color{215, 215, 255});
  for (size_t i = 0; i + 1 < terrain_x_.size(); ++i) {
    if (terrain_x_[i + 1] < left || terrain_x_[i] > left + width) continue;
    const Point p{terrain_x_[i], terrain_y_[i]}, q{terrain_x_[i + 1], terrain_y_[i + 1]};
    canvas.fill_polygon({p, q, {q.x, 0}, {p.x, 0}}, Color{102, 153, 76});
    canvas.line(p, q, i % 2 == 0 ? Color{76, 255, 76} : Color{76, 204, 76});
  }
  for (const auto& obstacle : obstacles_) {
    std::vector<Point> pts;
    for (const auto& p : obstacle) pts.push_back({p[0], p[1]});
    canvas.fill_polygon(pts, Color{255, 255, 255});
    canvas.outline_polygon(pts, Color{153, 153, 153});
  }
  for (const Ray& ray : lidar_) {
    canvas.line({ray.from[0], ray.from[1]}, {ray.to[0], ray.to[1]}, Color{255, 0, 0});
  }
  auto draw_body = [&](const b2Body* body, Color fill, Color edge) {
    const auto* shape = static_cast<const b2PolygonShape*>(body->GetFixtureList()->GetShape());
    std::vector<Point> pts;
    for (int i = 0; i < shape->m_count; ++i) {
      const b2Vec2 w = body->GetWorldPoint(shape->m_vertices[i]);
      pts.push_back({w.x, w.y});
    }
    canvas.fill_polygon(pts, fill);
    canvas.outline_polygon(pts, edge);
  };
  for (int k = 0; k < 4; ++k) {
    const bool first = k < 2;
    draw_body(legs_[k], first ? Color{178, 101, 152} : Color{128, 51, 102},
              first ? Color{127, 76, 101} : Color{77, 26, 51});
  }
  draw_body(hull_, Color{127, 51, 229}, Color{76, 76, 127});
  // The start flag.
  const double fx = kTerrainStep * 3, base = kTerrainHeight, top = base + 50 / kScale;
  canvas.line({fx, base}, {fx, top}, Color{0, 0, 0});
  canvas.fill_polygon({{fx, top}, {fx, top - 10 / kScale}, {fx + 25 / kScale, top - 5 / kScale}}, Color{230, 51, 0});
}

}  // namespace rlforge
