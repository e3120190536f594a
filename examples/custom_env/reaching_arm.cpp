// ReachingArm-v0.
//
// Two rigid links of length 1 m and mass 1 kg (uniform rods) turn about a fixed shoulder in a
// horizontal plane (no gravity). The action is a pair of joint torques in [-1, 1], scaled by
// max_torque; viscous damping in each joint opposes its velocity. The full rigid-body equations
// (mass matrix with the coupling through the elbow angle, Coriolis and centrifugal terms) are
// integrated with semi-implicit Euler, 4 substeps per 0.05 s step.
//
// Observation (10 floats): cos and sin of both joint angles, both joint velocities / 10, the
// target (x, y) and the vector from the fingertip to the target.
// Reward per step: minus the fingertip's distance to the target, minus 0.01 |action|^2.
// Episodes last 100 steps (the registry's TimeLimit); the env never terminates by itself.
#include "reaching_arm.h"

#include <rlforge/envs/env.h>
#include <rlforge/render/canvas.h>

#include <algorithm>
#include <cmath>

namespace reaching_arm {

namespace {

constexpr double kLength = 1.0;            // both links, m
constexpr double kMass = 1.0;              // both links, kg
constexpr double kInertia = kMass * kLength * kLength / 12.0;  // a rod about its centre
constexpr double kCentre = kLength / 2.0;  // centre of mass along each link
constexpr double kMaxSpeed = 10.0;         // rad/s, joint velocities are clipped here
constexpr double kDt = 0.05;               // s per step
constexpr int kSubsteps = 4;
constexpr double kReach = 2 * kLength;

rlforge::Space observation_space() {
  const std::vector<float> high = {1, 1, 1, 1, 1, 1, 2, 2, 4, 4};
  std::vector<float> low(high.size());
  for (std::size_t i = 0; i < high.size(); ++i) low[i] = -high[i];
  return rlforge::Space::box({10}, low, high);
}

class ReachingArm final : public rlforge::Env {
 public:
  ReachingArm(double max_torque, double damping)
      : Env(rlforge::EnvSpec{"ReachingArm-v0", observation_space(), rlforge::Space::box({2}, -1.0f, 1.0f), 100, -40.0}),
        max_torque_(max_torque),
        damping_(damping) {
    if (!(max_torque_ > 0)) throw rlforge::EnvError("ReachingArm-v0: max_torque must be > 0");
    if (!(damping_ >= 0)) throw rlforge::EnvError("ReachingArm-v0: damping must be >= 0");
  }

  bool has_state() const override { return true; }
  std::vector<double> state() const override { return {q1_, q2_, w1_, w2_, target_x_, target_y_}; }

  bool can_render() const override { return true; }
  rlforge::RenderHints render_hints() const override { return {400, 400, 1.0 / kDt}; }
  void render(rlforge::Canvas& canvas) const override {
    const double view = kReach + 0.2;
    canvas.set_view(-view, view, -view, view);
    canvas.clear({245, 245, 240});
    // The workspace: the circle the fingertip can reach.
    const int segments = 64;
    for (int i = 0; i < segments; ++i) {
      const double a0 = 2 * M_PI * i / segments, a1 = 2 * M_PI * (i + 1) / segments;
      canvas.line({kReach * std::cos(a0), kReach * std::sin(a0)}, {kReach * std::cos(a1), kReach * std::sin(a1)},
                  {200, 200, 200}, 2);
    }
    canvas.fill_circle({target_x_, target_y_}, 0.09, {220, 60, 60});
    const auto [ex, ey] = elbow();
    const auto [fx, fy] = fingertip();
    canvas.line({0, 0}, {ex, ey}, {60, 90, 160}, 0.12 * canvas.scale());
    canvas.line({ex, ey}, {fx, fy}, {90, 140, 210}, 0.10 * canvas.scale());
    canvas.fill_circle({0, 0}, 0.1, {40, 40, 40});
    canvas.fill_circle({ex, ey}, 0.07, {40, 40, 40});
    canvas.fill_circle({fx, fy}, 0.05, {250, 200, 40});
  }

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    q1_ = rng().uniform(-M_PI, M_PI);
    q2_ = rng().uniform(-M_PI, M_PI);
    w1_ = w2_ = 0;
    // A target anywhere the fingertip can reach, but not right at the shoulder.
    const double radius = rng().uniform(0.3, 1.9), angle = rng().uniform(-M_PI, M_PI);
    target_x_ = radius * std::cos(angle);
    target_y_ = radius * std::sin(angle);
    observe(static_cast<float*>(obs));
  }

  rlforge::StepResult step_impl(const void* action, void* obs) override {
    const float* a = static_cast<const float*>(action);
    const double u1 = std::clamp(static_cast<double>(a[0]), -1.0, 1.0);
    const double u2 = std::clamp(static_cast<double>(a[1]), -1.0, 1.0);
    const double h = kDt / kSubsteps;
    for (int k = 0; k < kSubsteps; ++k) {
      const double tau1 = max_torque_ * u1 - damping_ * w1_;
      const double tau2 = max_torque_ * u2 - damping_ * w2_;
      // Mass matrix of the two-link arm and the velocity-product terms.
      const double c2 = std::cos(q2_), s2 = std::sin(q2_);
      const double m11 = kMass * kCentre * kCentre + kInertia +
                         kMass * (kLength * kLength + kCentre * kCentre + 2 * kLength * kCentre * c2) + kInertia;
      const double m12 = kMass * (kCentre * kCentre + kLength * kCentre * c2) + kInertia;
      const double m22 = kMass * kCentre * kCentre + kInertia;
      const double coupling = kMass * kLength * kCentre * s2;
      const double b1 = tau1 + coupling * (2 * w1_ * w2_ + w2_ * w2_);
      const double b2 = tau2 - coupling * w1_ * w1_;
      const double det = m11 * m22 - m12 * m12;
      const double acc1 = (m22 * b1 - m12 * b2) / det;
      const double acc2 = (m11 * b2 - m12 * b1) / det;
      w1_ = std::clamp(w1_ + h * acc1, -kMaxSpeed, kMaxSpeed);
      w2_ = std::clamp(w2_ + h * acc2, -kMaxSpeed, kMaxSpeed);
      q1_ = std::remainder(q1_ + h * w1_, 2 * M_PI);
      q2_ = std::remainder(q2_ + h * w2_, 2 * M_PI);
    }
    observe(static_cast<float*>(obs));
    const auto [fx, fy] = fingertip();
    const double distance = std::hypot(target_x_ - fx, target_y_ - fy);
    return {-distance - 0.01 * (u1 * u1 + u2 * u2), false, false};
  }

  void set_state_impl(const std::vector<double>& state) override {
    check_state_size(state, 6);
    q1_ = state[0];
    q2_ = state[1];
    w1_ = state[2];
    w2_ = state[3];
    target_x_ = state[4];
    target_y_ = state[5];
  }

 private:
  std::pair<double, double> elbow() const { return {kLength * std::cos(q1_), kLength * std::sin(q1_)}; }
  std::pair<double, double> fingertip() const {
    const auto [ex, ey] = elbow();
    return {ex + kLength * std::cos(q1_ + q2_), ey + kLength * std::sin(q1_ + q2_)};
  }

  void observe(float* obs) const {
    const auto [fx, fy] = fingertip();
    const double values[10] = {std::cos(q1_), std::sin(q1_), std::cos(q2_), std::sin(q2_), w1_ / kMaxSpeed,
                               w2_ / kMaxSpeed, target_x_, target_y_, target_x_ - fx, target_y_ - fy};
    for (int i = 0; i < 10; ++i) obs[i] = static_cast<float>(values[i]);
  }

  double max_torque_, damping_;
  double q1_ = 0, q2_ = 0, w1_ = 0, w2_ = 0;  // joint angles (rad) and velocities (rad/s)
  double target_x_ = 1, target_y_ = 0;
};

}  // namespace

void register_envs(rlforge::EnvRegistry& registry) {
  registry.add({"ReachingArm-v0", "Two-link planar arm: bring the fingertip to a random target (example plugin)",
                {{"max_torque", 5.0, "torque of each joint at action 1 (N m)"},
                 {"damping", 1.0, "viscous damping of each joint (N m s/rad)"}},
                [](const rlforge::ResolvedOptions& o) {
                  return std::make_unique<ReachingArm>(o.get_double("max_torque"), o.get_double("damping"));
                }});
}

}  // namespace reaching_arm
