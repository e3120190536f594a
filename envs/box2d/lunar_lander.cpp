#include "rlforge/envs/box2d/lunar_lander.h"

#include "box2d_api.h"

#include <algorithm>
#include <cmath>

#include "../param_checks.h"
#include "ground_contacts.h"
#include "rlforge/render/canvas.h"

namespace rlforge {

namespace {
constexpr double kFps = 50.0;
constexpr double kInitialRandom = 1000.0;
constexpr double kLegAway = 20.0, kLegDown = 18.0, kLegW = 2.0, kLegH = 8.0;
constexpr double kLegSpringTorque = 40.0;
constexpr double kSideEngineHeight = 14.0, kSideEngineAway = 12.0;
constexpr double kMainEngineYLocation = 4.0;
constexpr double kW = LunarLander::kViewportWidth, kH = LunarLander::kViewportHeight;
constexpr int kChunks = 11;
constexpr uint16_t kGround = 0x0001, kLanderCategory = 0x0010, kLegCategory = 0x0020;
// Lander outline in pixels (x right, y up), from Gymnasium.
constexpr double kLanderPoly[6][2] = {{-14, 17}, {-17, 0}, {-17, -10}, {17, -10}, {17, 0}, {14, 17}};

EnvSpec lander_spec(bool continuous) {
  EnvSpec spec;
  spec.id = continuous ? "LunarLanderContinuous-v3" : "LunarLander-v3";
  const auto two_pi = static_cast<float>(2 * M_PI);
  spec.observation_space = Space::box({8}, {-2.5f, -2.5f, -10.0f, -10.0f, -two_pi, -10.0f, -0.0f, -0.0f},
                                      {2.5f, 2.5f, 10.0f, 10.0f, two_pi, 10.0f, 1.0f, 1.0f});
  spec.action_space = continuous ? Space::box({2}, -1.0f, 1.0f) : Space::discrete(4);
  spec.max_episode_steps = 1000;
  spec.observation_names = {"x", "y", "vx", "vy", "angle", "angular_velocity", "left_leg_contact", "right_leg_contact"};
  spec.reward_threshold = 200.0;
  return spec;
}

// Gymnasium's wind and turbulence: a smooth, non-periodic signal of the step index.
double gust(int64_t index) {
  const auto k = static_cast<double>(index);
  return std::tanh(std::sin(0.02 * k) + std::sin(M_PI * 0.01 * k));
}
}  // namespace

LunarLander::LunarLander(Params params) : ReplaySnapshotEnv(lander_spec(params.continuous)), params_(params) {
  if (!(params.gravity > -12.0 && params.gravity < 0.0)) {
    throw EnvError(id() + ": gravity must be in (-12, 0), got " + std::to_string(params.gravity));
  }
  if (!(params.wind_power >= 0.0)) {
    throw EnvError(id() + ": wind_power must be >= 0, got " + std::to_string(params.wind_power));
  }
  if (!(params.turbulence_power >= 0.0)) {
    throw EnvError(id() + ": turbulence_power must be >= 0, got " + std::to_string(params.turbulence_power));
  }
  detail::require_non_negative(id(), "main_engine_power", params.main_engine_power);
  detail::require_non_negative(id(), "side_engine_power", params.side_engine_power);
  contacts_ = std::make_unique<detail::GroundContacts>(&lander_, &game_over_);
  for (int i = 0; i < 2; ++i) contacts_->watch(&legs_[i], &leg_contact_[i]);
}

LunarLander::~LunarLander() {
  world_.reset();  // before the contact listener it points to
}

void LunarLander::build_world() {
  NumpyGenerator& r = rng();
  world_.reset();  // a fresh world per episode, as Gymnasium v3 (no state leaks between episodes)
  world_ = std::make_unique<b2World>(b2Vec2(0.0f, static_cast<float>(params_.gravity)));
  world_->SetContactListener(contacts_.get());
  game_over_ = false;
  has_prev_shaping_ = false;
  leg_contact_ = {false, false};
  main_power_ = side_power_ = 0;

  // Terrain: 12 random heights, the five around the middle flattened into the pad, smoothed
  // with Gymnasium's factor 0.33 (the first point wraps round to the last height).
  std::array<double, kChunks + 1> height{};
  for (double& h : height) h = r.uniform(0.0, kH / 2);
  for (int i = kChunks / 2 - 2; i <= kChunks / 2 + 2; ++i) height[i] = kHelipadY;
  terrain_.assign(kChunks, {0.0, 0.0});
  for (int i = 0; i < kChunks; ++i) {
    const double left = height[(i + kChunks) % (kChunks + 1)];
    terrain_[i] = {kW / (kChunks - 1) * i, 0.33 * (left + height[i] + height[i + 1])};
  }
  b2BodyDef moon_def;
  b2Body* moon = world_->CreateBody(&moon_def);
  {
    b2EdgeShape floor;
    detail::set_segment(floor, b2Vec2(0.0f, 0.0f), b2Vec2(static_cast<float>(kW), 0.0f));
    b2FixtureDef fd;
    fd.shape = &floor;  // Box2D's defaults: friction 0.2, density 0
    moon->CreateFixture(&fd);
  }
  for (int i = 0; i + 1 < kChunks; ++i) {
    b2EdgeShape edge;
    detail::set_segment(edge, b2Vec2(static_cast<float>(terrain_[i][0]), static_cast<float>(terrain_[i][1])),
                     b2Vec2(static_cast<float>(terrain_[i + 1][0]), static_cast<float>(terrain_[i + 1][1])));
    b2FixtureDef fd;
    fd.shape = &edge;
    fd.density = 0.0f;
    fd.friction = 0.1f;
    moon->CreateFixture(&fd);
  }

  // The lander, starting at the top centre with a random push.
  b2BodyDef lander_def;
  lander_def.type = b2_dynamicBody;
  lander_def.position.Set(static_cast<float>(kW / 2), static_cast<float>(kH));
  lander_ = world_->CreateBody(&lander_def);
  {
    b2Vec2 vertices[6];
    for (int i = 0; i < 6; ++i) {
      vertices[i].Set(static_cast<float>(kLanderPoly[i][0] / kScale), static_cast<float>(kLanderPoly[i][1] / kScale));
    }
    b2PolygonShape shape;
    shape.Set(vertices, 6);
    b2FixtureDef fd;
    fd.shape = &shape;
    fd.density = 5.0f;
    fd.friction = 0.1f;
    fd.restitution = 0.0f;
    fd.filter.categoryBits = kLanderCategory;
    fd.filter.maskBits = kGround;
    lander_->CreateFixture(&fd);
  }
  const double fx = r.uniform(-kInitialRandom, kInitialRandom);
  const double fy = r.uniform(-kInitialRandom, kInitialRandom);
  lander_->ApplyForceToCenter(b2Vec2(static_cast<float>(fx), static_cast<float>(fy)), true);
  if (params_.enable_wind) {
    wind_idx_ = r.integers(-9999, 9999);
    torque_idx_ = r.integers(-9999, 9999);
  }

  // Legs on motorised hinges that hold them spread; legs_[0] is the right (+x) one.
  for (int k = 0; k < 2; ++k) {
    const double i = k == 0 ? -1.0 : 1.0;
    b2BodyDef leg_def;
    leg_def.type = b2_dynamicBody;
    leg_def.position.Set(static_cast<float>(kW / 2 - i * kLegAway / kScale), static_cast<float>(kH));
    leg_def.angle = static_cast<float>(i * 0.05);
    legs_[k] = world_->CreateBody(&leg_def);
    b2PolygonShape box;
    box.SetAsBox(static_cast<float>(kLegW / kScale), static_cast<float>(kLegH / kScale));
    b2FixtureDef fd;
    fd.shape = &box;
    fd.density = 1.0f;
    fd.restitution = 0.0f;
    fd.filter.categoryBits = kLegCategory;
    fd.filter.maskBits = kGround;
    legs_[k]->CreateFixture(&fd);

    b2RevoluteJointDef joint;
    joint.bodyA = lander_;
    joint.bodyB = legs_[k];
    joint.localAnchorA.Set(0.0f, 0.0f);
    joint.localAnchorB.Set(static_cast<float>(i * kLegAway / kScale), static_cast<float>(kLegDown / kScale));
    // pybox2d sets the reference angle from the bodies' angles; C++ Box2D does not.
    joint.referenceAngle = static_cast<float>(i * 0.05);
    joint.enableMotor = true;
    joint.enableLimit = true;
    joint.maxMotorTorque = static_cast<float>(kLegSpringTorque);
    joint.motorSpeed = static_cast<float>(0.3 * i);
    joint.lowerAngle = static_cast<float>(i < 0 ? 0.9 - 0.5 : -0.9);
    joint.upperAngle = static_cast<float>(i < 0 ? 0.9 : -0.9 + 0.5);
    world_->CreateJoint(&joint);
  }
}

void LunarLander::reset_impl(std::optional<uint64_t>, void* obs) {
  begin_episode();
  build_world();
  // Gymnasium's reset ends with one no-op step (it settles the legs and sets the shaping
  // baseline); its reward is dropped.
  advance(0.0, 0.0, 0.0, obs);
}

StepResult LunarLander::step_impl(const void* action, void* obs) {
  record_action(action);
  double main = 0, direction = 0, side = 0;
  if (params_.continuous) {
    const auto* a = static_cast<const float*>(action);
    const double throttle = std::clamp(static_cast<double>(a[0]), -1.0, 1.0);
    const double lateral = std::clamp(static_cast<double>(a[1]), -1.0, 1.0);
    if (throttle > 0.0) main = (throttle + 1.0) * 0.5;  // 50% to 100%
    if (std::abs(lateral) > 0.5) {
      direction = lateral > 0 ? 1.0 : -1.0;
      side = std::abs(lateral);
    }
  } else {
    const int64_t a = *static_cast<const int64_t*>(action);
    if (a == 2) main = 1.0;
    if (a == 1 || a == 3) {
      direction = static_cast<double>(a - 2);
      side = 1.0;
    }
  }
  return advance(main, direction, side, obs);
}

StepResult LunarLander::advance(double main_power, double side_direction, double side_power, void* obs) {
  NumpyGenerator& r = rng();
  if (params_.enable_wind && !leg_contact_[0] && !leg_contact_[1]) {
    const double wind = gust(wind_idx_++) * params_.wind_power;
    lander_->ApplyForceToCenter(b2Vec2(static_cast<float>(wind), 0.0f), true);
    const double torque = gust(torque_idx_++) * params_.turbulence_power;
    lander_->ApplyTorque(static_cast<float>(torque), true);
  }

  const double angle = lander_->GetAngle();
  const double tip_x = std::sin(angle), tip_y = std::cos(angle);
  const double side_x = -tip_y, side_y = tip_x;
  // Engine dispersion: drawn every step, whatever the action.
  const double d0 = r.uniform(-1.0, 1.0) / kScale;
  const double d1 = r.uniform(-1.0, 1.0) / kScale;
  const b2Vec2 p = lander_->GetPosition();

  if (main_power > 0.0) {
    const double k = kMainEngineYLocation / kScale + 2 * d0;
    const double ox = tip_x * k + side_x * d1;
    const double oy = -tip_y * k - side_y * d1;
    const b2Vec2 at(static_cast<float>(p.x + ox), static_cast<float>(p.y + oy));
    lander_->ApplyLinearImpulse(
        b2Vec2(static_cast<float>(-ox * params_.main_engine_power * main_power),
               static_cast<float>(-oy * params_.main_engine_power * main_power)),
        at, true);
  }
  if (side_power > 0.0) {
    const double l = 3 * d1 + side_direction * kSideEngineAway / kScale;
    const double ox = tip_x * d0 + side_x * l;
    const double oy = -tip_y * d0 - side_y * l;
    // Gymnasium's application point mixes 17 px (x) and 14 px (y); kept for fidelity.
    const b2Vec2 at(static_cast<float>(p.x + ox - tip_x * 17 / kScale),
                    static_cast<float>(p.y + oy + tip_y * kSideEngineHeight / kScale));
    lander_->ApplyLinearImpulse(
        b2Vec2(static_cast<float>(-ox * params_.side_engine_power * side_power),
               static_cast<float>(-oy * params_.side_engine_power * side_power)),
        at, true);
  }
  main_power_ = main_power;
  side_power_ = side_direction * side_power;

  world_->Step(static_cast<float>(1.0 / kFps), 6 * 30, 2 * 30);

  std::array<double, 8> s{};
  write_observation(static_cast<float*>(obs), s);
  const double shaping = -100 * std::sqrt(s[0] * s[0] + s[1] * s[1]) - 100 * std::sqrt(s[2] * s[2] + s[3] * s[3]) -
                         100 * std::abs(s[4]) + 10 * s[6] + 10 * s[7];
  double reward = has_prev_shaping_ ? shaping - prev_shaping_ : 0.0;
  prev_shaping_ = shaping;
  has_prev_shaping_ = true;
  reward -= main_power * 0.30;
  reward -= side_power * 0.03;

  bool terminated = false;
  if (game_over_ || std::abs(s[0]) >= 1.0) {
    terminated = true;
    reward = -100;
  }
  if (!lander_->IsAwake()) {  // came to rest
    terminated = true;
    reward = +100;
  }
  return {reward, terminated, false};
}

void LunarLander::write_observation(float* obs, std::array<double, 8>& s) const {
  const b2Vec2 pos = lander_->GetPosition();
  const b2Vec2 vel = lander_->GetLinearVelocity();
  s[0] = (pos.x - kW / 2) / (kW / 2);
  s[1] = (pos.y - (kHelipadY + kLegDown / kScale)) / (kH / 2);
  s[2] = vel.x * (kW / 2) / kFps;
  s[3] = vel.y * (kH / 2) / kFps;
  s[4] = lander_->GetAngle();
  s[5] = 20.0 * lander_->GetAngularVelocity() / kFps;
  s[6] = leg_contact_[0] ? 1.0 : 0.0;
  s[7] = leg_contact_[1] ? 1.0 : 0.0;
  for (int i = 0; i < 8; ++i) obs[i] = static_cast<float>(s[i]);
}

LunarLander::Pose LunarLander::lander_pose() const {
  const b2Vec2 p = lander_->GetPosition();
  return {p.x, p.y, lander_->GetAngle()};
}

std::array<LunarLander::Pose, 2> LunarLander::leg_poses() const {
  std::array<Pose, 2> out{};
  for (int i = 0; i < 2; ++i) {
    const b2Vec2 p = legs_[i]->GetPosition();
    out[i] = {p.x, p.y, legs_[i]->GetAngle()};
  }
  return out;
}

void LunarLander::render(Canvas& canvas) const {
  if (lander_ == nullptr) throw EnvError(id() + ": render() before the first reset");
  canvas.set_view(0.0, kW, 0.0, kH);
  canvas.clear(Color{255, 255, 255});  // the ground stays white
  for (size_t i = 0; i + 1 < terrain_.size(); ++i) {  // black sky above each terrain segment
    const auto& p = terrain_[i];
    const auto& q = terrain_[i + 1];
    canvas.fill_polygon({{p[0], p[1]}, {q[0], q[1]}, {q[0], kH}, {p[0], kH}}, Color{0, 0, 0});
  }
  auto transformed = [](const b2Body* body, const std::vector<Point>& local) {
    std::vector<Point> out;
    for (const Point& v : local) {
      const b2Vec2 w = body->GetWorldPoint(b2Vec2(static_cast<float>(v.x), static_cast<float>(v.y)));
      out.push_back({w.x, w.y});
    }
    return out;
  };
  const Color fill{128, 102, 230}, edge{77, 77, 128}, flame{255, 140, 0};
  // Flames first, so the lander covers their roots.
  if (main_power_ > 0) {
    const double len = 0.5 + 0.5 * main_power_;
    canvas.fill_polygon(transformed(lander_, {{-0.15, -0.33}, {0.15, -0.33}, {0.0, -0.33 - len}}), flame);
  }
  if (side_power_ != 0) {
    const double s = side_power_ > 0 ? 1.0 : -1.0;  // right engine fires from the left side
    canvas.fill_polygon(transformed(lander_, {{-s * 0.57, 0.35}, {-s * 0.57, 0.55}, {-s * 0.95, 0.45}}), flame);
  }
  const double w = kLegW / kScale, h = kLegH / kScale;
  for (const b2Body* leg : legs_) {
    const auto box = transformed(leg, {{-w, -h}, {w, -h}, {w, h}, {-w, h}});
    canvas.fill_polygon(box, fill);
    canvas.outline_polygon(box, edge);
  }
  std::vector<Point> hull;
  for (const auto& v : kLanderPoly) hull.push_back({v[0] / kScale, v[1] / kScale});
  hull = transformed(lander_, hull);
  canvas.fill_polygon(hull, fill);
  canvas.outline_polygon(hull, edge);
  // Flags on the pad: a 50 px white pole with a yellow pennant.
  for (const double x : {kHelipadX1, kHelipadX2}) {
    const double top = kHelipadY + 50 / kScale;
    canvas.line({x, kHelipadY}, {x, top}, Color{255, 255, 255});
    canvas.fill_polygon({{x, top}, {x, top - 10 / kScale}, {x + 25 / kScale, top - 5 / kScale}}, Color{204, 204, 0});
  }
}

}  // namespace rlforge
