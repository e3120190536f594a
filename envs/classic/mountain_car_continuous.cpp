#include "rlforge/envs/classic/mountain_car_continuous.h"

#include <algorithm>
#include <cmath>

#include "../param_checks.h"

namespace rlforge {

namespace {
constexpr double kMinAction = -1.0;
constexpr double kMaxAction = 1.0;
constexpr double kMinPosition = -1.2;
constexpr double kMaxPosition = 0.6;
constexpr double kMaxSpeed = 0.07;
constexpr double kGoalPosition = 0.45;  // 0.45 as in Gymnasium (0.5 in the discrete env)

EnvSpec mountain_car_continuous_spec() {
  EnvSpec spec;
  spec.id = "MountainCarContinuous-v0";
  spec.observation_space =
      Space::box({2}, {static_cast<float>(kMinPosition), static_cast<float>(-kMaxSpeed)},
                 {static_cast<float>(kMaxPosition), static_cast<float>(kMaxSpeed)});
  spec.action_space = Space::box({1}, -1.0f, 1.0f);
  spec.max_episode_steps = 999;
  spec.observation_names = {"position", "velocity"};
  spec.reward_threshold = 90.0;
  return spec;
}
}  // namespace

MountainCarContinuous::MountainCarContinuous() : MountainCarContinuous(Params{}) {}

MountainCarContinuous::MountainCarContinuous(Params params)
    : Env(mountain_car_continuous_spec()), params_(params) {
  detail::require_non_negative(id(), "power", params.power);
}

void MountainCarContinuous::write_observation(void* obs) const {
  auto* o = static_cast<float*>(obs);
  o[0] = static_cast<float>(position_);
  o[1] = static_cast<float>(velocity_);
}

void MountainCarContinuous::reset_impl(std::optional<uint64_t>, void* obs) {
  position_ = rng().uniform(-0.6, -0.4);
  velocity_ = 0.0;
  write_observation(obs);
}

StepResult MountainCarContinuous::step_impl(const void* action, void* obs) {
  const float a = *static_cast<const float*>(action);
  // Gymnasium mixes float32 state and actions with Python floats; under NumPy 2 a Python float
  // meeting a float32 is rounded to float32 first. Reproduce that order of roundings.
  const bool clipped = a < kMinAction || a > kMaxAction;
  const double power = params_.power;
  const auto p = static_cast<float>(position_);
  const double slope = 0.0025 * std::cos(static_cast<double>(3.0f * p));
  float delta;
  if (clipped) {
    // The force is then the Python float -1.0 or 1.0 and the sum is formed in double.
    const double force = a < kMinAction ? kMinAction : kMaxAction;
    delta = static_cast<float>(force * power - slope);
  } else {
    delta = a * static_cast<float>(power) - static_cast<float>(slope);
  }
  float v = static_cast<float>(velocity_) + delta;
  if (v > static_cast<float>(kMaxSpeed)) v = static_cast<float>(kMaxSpeed);
  if (v < static_cast<float>(-kMaxSpeed)) v = static_cast<float>(-kMaxSpeed);
  float pos = p + v;
  if (pos > static_cast<float>(kMaxPosition)) pos = static_cast<float>(kMaxPosition);
  if (pos < static_cast<float>(kMinPosition)) pos = static_cast<float>(kMinPosition);
  if (pos == static_cast<float>(kMinPosition) && v < 0) v = 0.0f;
  position_ = pos;
  velocity_ = v;
  write_observation(obs);

  const bool terminated =
      pos >= static_cast<float>(kGoalPosition) && v >= static_cast<float>(params_.goal_velocity);
  const double a64 = a;
  const double reward = (terminated ? 100.0 : 0.0) - a64 * a64 * 0.1;
  return {reward, terminated, false};
}

void MountainCarContinuous::set_state_impl(const std::vector<double>& state) {
  check_state_size(state, 2);
  position_ = state[0];
  velocity_ = state[1];
}

}  // namespace rlforge
