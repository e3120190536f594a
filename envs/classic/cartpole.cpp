#include "rlforge/envs/classic/cartpole.h"

#include <cmath>
#include <limits>

#include "../param_checks.h"

namespace rlforge {

namespace {
// Gymnasium's constants (the physical ones are Params).
constexpr double kTau = 0.02;
const double kThetaThreshold = 12 * 2 * M_PI / 360;
constexpr double kXThreshold = 2.4;

EnvSpec cartpole_spec() {
  const float inf = std::numeric_limits<float>::infinity();
  const float x = static_cast<float>(kXThreshold * 2);
  const float th = static_cast<float>(kThetaThreshold * 2);
  EnvSpec spec;
  spec.id = "CartPole-v1";
  spec.observation_space = Space::box({4}, {-x, -inf, -th, -inf}, {x, inf, th, inf});
  spec.action_space = Space::discrete(2);
  spec.max_episode_steps = 500;
  spec.observation_names = {"x", "x_dot", "theta", "theta_dot"};
  spec.reward_threshold = 475.0;
  return spec;
}
}  // namespace

CartPole::CartPole() : CartPole(Params{}) {}

CartPole::CartPole(Params params)
    : Env(cartpole_spec()),
      params_(params),
      // Gymnasium: total_mass = masspole + masscart, polemass_length = masspole * length.
      total_mass_(params.masspole + params.masscart),
      polemass_length_(params.masspole * params.length) {
  detail::require_non_negative(id(), "gravity", params.gravity);
  detail::require_positive(id(), "masscart", params.masscart);
  detail::require_positive(id(), "masspole", params.masspole);
  detail::require_positive(id(), "length", params.length);
  detail::require_non_negative(id(), "force_mag", params.force_mag);
}

void CartPole::write_observation(void* obs) const {
  auto* o = static_cast<float*>(obs);
  o[0] = static_cast<float>(x_);
  o[1] = static_cast<float>(x_dot_);
  o[2] = static_cast<float>(theta_);
  o[3] = static_cast<float>(theta_dot_);
}

void CartPole::reset_impl(std::optional<uint64_t>, void* obs) {
  NumpyGenerator& r = rng();
  x_ = r.uniform(-0.05, 0.05);
  x_dot_ = r.uniform(-0.05, 0.05);
  theta_ = r.uniform(-0.05, 0.05);
  theta_dot_ = r.uniform(-0.05, 0.05);
  write_observation(obs);
}

StepResult CartPole::step_impl(const void* action, void* obs) {
  const Params& p = params_;
  const double force = *static_cast<const int64_t*>(action) == 1 ? p.force_mag : -p.force_mag;
  const double costheta = std::cos(theta_);
  const double sintheta = std::sin(theta_);
  const double temp =
      (force + polemass_length_ * (theta_dot_ * theta_dot_) * sintheta) / total_mass_;
  const double thetaacc =
      (p.gravity * sintheta - costheta * temp) /
      (p.length * (4.0 / 3.0 - p.masspole * (costheta * costheta) / total_mass_));
  const double xacc = temp - polemass_length_ * thetaacc * costheta / total_mass_;

  x_ = x_ + kTau * x_dot_;
  x_dot_ = x_dot_ + kTau * xacc;
  theta_ = theta_ + kTau * theta_dot_;
  theta_dot_ = theta_dot_ + kTau * thetaacc;
  write_observation(obs);

  const bool terminated = x_ < -kXThreshold || x_ > kXThreshold || theta_ < -kThetaThreshold ||
                          theta_ > kThetaThreshold;
  double reward;
  if (params_.sutton_barto_reward) {
    reward = terminated ? -1.0 : 0.0;
  } else {
    reward = 1.0;
  }
  return {reward, terminated, false};
}

void CartPole::set_state_impl(const std::vector<double>& state) {
  check_state_size(state, 4);
  x_ = state[0];
  x_dot_ = state[1];
  theta_ = state[2];
  theta_dot_ = state[3];
}

}  // namespace rlforge
