#include "rlforge/envs/classic/pendulum.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../param_checks.h"

namespace rlforge {

namespace {
constexpr double kDt = 0.05;

// Gymnasium's bounds are float32 arrays made from the Python floats.
EnvSpec pendulum_spec(const Pendulum::Params& p) {
  const auto max_speed = static_cast<float>(p.max_speed),
             max_torque = static_cast<float>(p.max_torque);
  EnvSpec spec;
  spec.id = "Pendulum-v1";
  spec.observation_space = Space::box({3}, {-1.0f, -1.0f, -max_speed}, {1.0f, 1.0f, max_speed});
  spec.action_space = Space::box({1}, -max_torque, max_torque);
  spec.max_episode_steps = 200;
  spec.observation_names = {"cos_theta", "sin_theta", "theta_dot"};
  return spec;
}

// Python's floor modulo: the result has the divisor's sign.
double python_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0.0 && ((b < 0) != (m < 0))) m += b;
  return m;
}

double angle_normalize(double x) { return python_mod(x + M_PI, 2 * M_PI) - M_PI; }
}  // namespace

Pendulum::Pendulum() : Pendulum(Params{}) {}

// The checks run before the spec is made, so that a bad max_speed or max_torque is refused with
// its name rather than as a malformed space.
Pendulum::Params Pendulum::checked(Params p) {
  const std::string env = "Pendulum-v1";
  detail::require_non_negative(env, "g", p.g);
  detail::require_positive(env, "m", p.m);
  detail::require_positive(env, "l", p.l);
  detail::require_positive_float(env, "max_torque", p.max_torque);
  detail::require_positive_float(env, "max_speed", p.max_speed);
  return p;
}

Pendulum::Pendulum(Params params) : Env(pendulum_spec(checked(params))), params_(params) {}

void Pendulum::write_observation(void* obs) const {
  auto* o = static_cast<float*>(obs);
  o[0] = static_cast<float>(std::cos(theta_));
  o[1] = static_cast<float>(std::sin(theta_));
  o[2] = static_cast<float>(theta_dot_);
}

void Pendulum::reset_impl(std::optional<uint64_t>, void* obs) {
  theta_ = rng().uniform(-M_PI, M_PI);
  theta_dot_ = rng().uniform(-1.0, 1.0);
  last_torque_ = 0.0f;
  write_observation(obs);
}

StepResult Pendulum::step_impl(const void* action, void* obs) {
  // The action is clipped in float32 (Gymnasium clips the float32 array); the arithmetic after
  // that is float64, which is what the reference trajectories agree with.
  const auto max_torque = static_cast<float>(params_.max_torque);
  const float u = std::clamp(*static_cast<const float*>(action), -max_torque, max_torque);
  last_torque_ = u;
  const double g = params_.g, m = params_.m, l = params_.l, max_speed = params_.max_speed;
  const double th = theta_;
  const double thdot = theta_dot_;
  const double an = angle_normalize(th);
  const double torque = u;
  const double costs = an * an + 0.1 * (thdot * thdot) + 0.001 * (torque * torque);
  double newthdot = thdot + (3 * g / (2 * l) * std::sin(th) + 3.0 / (m * (l * l)) * torque) * kDt;
  newthdot = std::clamp(newthdot, -max_speed, max_speed);
  theta_ = th + newthdot * kDt;
  theta_dot_ = newthdot;
  write_observation(obs);
  return {-costs, false, false};
}

void Pendulum::set_state_impl(const std::vector<double>& state) {
  check_state_size(state, 2);
  theta_ = state[0];
  theta_dot_ = state[1];
}

}  // namespace rlforge
