#include "rlforge/envs/classic/acrobot.h"

#include <algorithm>
#include <cmath>

#include "../param_checks.h"

namespace rlforge {

namespace {
constexpr double kDt = 0.2;
constexpr double kMaxVel1 = 4 * M_PI;
constexpr double kMaxVel2 = 9 * M_PI;
constexpr double kAvailableTorque[3] = {-1.0, 0.0, 1.0};
constexpr double kG = 9.8;

EnvSpec acrobot_spec() {
  const float v1 = static_cast<float>(kMaxVel1), v2 = static_cast<float>(kMaxVel2);
  EnvSpec spec;
  spec.id = "Acrobot-v1";
  spec.observation_space =
      Space::box({6}, {-1, -1, -1, -1, -v1, -v2}, {1, 1, 1, 1, v1, v2});
  spec.action_space = Space::discrete(3);
  spec.max_episode_steps = 500;
  spec.observation_names = {"cos_theta1", "sin_theta1", "cos_theta2", "sin_theta2", "theta1_dot", "theta2_dot"};
  spec.reward_threshold = -100.0;
  return spec;
}

using State5 = std::array<double, 5>;  // theta1, theta2, dtheta1, dtheta2, torque

// Equations of motion ("book" variant), with Gymnasium's order of operations.
State5 derivatives(const Acrobot::Params& p, const State5& s) {
  const double m1 = p.link_mass_1, m2 = p.link_mass_2, l1 = p.link_length_1;
  const double lc1 = p.link_com_pos_1, lc2 = p.link_com_pos_2, i1 = p.link_moi, i2 = p.link_moi;
  const double a = s[4];
  const double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
  const double cos_t2 = std::cos(theta2), sin_t2 = std::sin(theta2);
  const double d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos_t2) + i1 + i2;
  const double d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos_t2) + i2;
  const double phi2 = m2 * lc2 * kG * std::cos(theta1 + theta2 - M_PI / 2.0);
  const double phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin_t2 -
                      2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin_t2 +
                      (m1 * lc1 + m2 * l1) * kG * std::cos(theta1 - M_PI / 2) + phi2;
  const double ddtheta2 =
      (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin_t2 - phi2) /
      (m2 * (lc2 * lc2) + i2 - (d2 * d2) / d1);
  const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return {dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0};
}

State5 axpy(const State5& y, double h, const State5& k) {
  State5 out;
  for (int i = 0; i < 5; ++i) out[i] = y[i] + h * k[i];
  return out;
}

double wrap(double x, double m, double big_m) {
  const double diff = big_m - m;
  // Gymnasium's loops, which the dynamics only ever run once or twice. A state set from outside
  // can be far off (found by fuzz_env_snapshot: 1e300 - 2 pi == 1e300, so the loop never ended):
  // such values are first brought near the range, and infinities are left to give NaN.
  if (!std::isfinite(x)) return x;
  if (x > big_m + 64 * diff || x < m - 64 * diff) x = m + std::fmod(x - m, diff);
  while (x > big_m) x = x - diff;
  while (x < m) x = x + diff;
  return x;
}
}  // namespace

Acrobot::Acrobot() : Acrobot(Params{}) {}

Acrobot::Acrobot(Params params) : Env(acrobot_spec()), params_(params) {
  detail::require_positive(id(), "link_length_1", params.link_length_1);
  detail::require_positive(id(), "link_length_2", params.link_length_2);
  detail::require_positive(id(), "link_mass_1", params.link_mass_1);
  detail::require_positive(id(), "link_mass_2", params.link_mass_2);
  detail::require_non_negative(id(), "link_com_pos_1", params.link_com_pos_1);
  detail::require_non_negative(id(), "link_com_pos_2", params.link_com_pos_2);
  detail::require_positive(id(), "link_moi", params.link_moi);
}

void Acrobot::write_observation(void* obs) const {
  auto* o = static_cast<float*>(obs);
  o[0] = static_cast<float>(std::cos(s_[0]));
  o[1] = static_cast<float>(std::sin(s_[0]));
  o[2] = static_cast<float>(std::cos(s_[1]));
  o[3] = static_cast<float>(std::sin(s_[1]));
  o[4] = static_cast<float>(s_[2]);
  o[5] = static_cast<float>(s_[3]);
}

void Acrobot::reset_impl(std::optional<uint64_t>, void* obs) {
  // Gymnasium draws the start state in float64 and stores it as float32.
  for (double& v : s_) v = static_cast<float>(rng().uniform(-0.1, 0.1));
  write_observation(obs);
}

StepResult Acrobot::step_impl(const void* action, void* obs) {
  const double torque = kAvailableTorque[*static_cast<const int64_t*>(action)];
  const State5 y0 = {s_[0], s_[1], s_[2], s_[3], torque};
  // One classical RK4 step over [0, dt].
  const double dt = kDt, dt2 = kDt / 2.0;
  const State5 k1 = derivatives(params_, y0);
  const State5 k2 = derivatives(params_, axpy(y0, dt2, k1));
  const State5 k3 = derivatives(params_, axpy(y0, dt2, k2));
  const State5 k4 = derivatives(params_, axpy(y0, dt, k3));
  State5 y1;
  for (int i = 0; i < 4; ++i) y1[i] = y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);

  s_[0] = wrap(y1[0], -M_PI, M_PI);
  s_[1] = wrap(y1[1], -M_PI, M_PI);
  s_[2] = std::min(std::max(y1[2], -kMaxVel1), kMaxVel1);
  s_[3] = std::min(std::max(y1[3], -kMaxVel2), kMaxVel2);
  write_observation(obs);

  const bool terminated = -std::cos(s_[0]) - std::cos(s_[1] + s_[0]) > 1.0;
  return {terminated ? 0.0 : -1.0, terminated, false};
}

void Acrobot::set_state_impl(const std::vector<double>& state) {
  check_state_size(state, 4);
  for (int i = 0; i < 4; ++i) s_[static_cast<std::size_t>(i)] = state[static_cast<std::size_t>(i)];
}

}  // namespace rlforge
