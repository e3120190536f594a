#include "rlforge/envs/classic/mountain_car.h"

#include <algorithm>
#include <cmath>

#include "../param_checks.h"

namespace rlforge {

namespace {
constexpr double kMinPosition = -1.2;
constexpr double kMaxPosition = 0.6;
constexpr double kMaxSpeed = 0.07;
constexpr double kGoalPosition = 0.5;

EnvSpec mountain_car_spec() {
  EnvSpec spec;
  spec.id = "MountainCar-v0";
  spec.observation_space =
      Space::box({2}, {static_cast<float>(kMinPosition), static_cast<float>(-kMaxSpeed)},
                 {static_cast<float>(kMaxPosition), static_cast<float>(kMaxSpeed)});
  spec.action_space = Space::discrete(3);
  spec.max_episode_steps = 200;
  spec.observation_names = {"position", "velocity"};
  spec.reward_threshold = -110.0;
  return spec;
}
}  // namespace

MountainCar::MountainCar() : MountainCar(Params{}) {}

MountainCar::MountainCar(Params params) : Env(mountain_car_spec()), params_(params) {
  detail::require_non_negative(id(), "force", params.force);
  detail::require_non_negative(id(), "gravity", params.gravity);
}

void MountainCar::write_observation(void* obs) const {
  auto* o = static_cast<float*>(obs);
  o[0] = static_cast<float>(position_);
  o[1] = static_cast<float>(velocity_);
}

void MountainCar::reset_impl(std::optional<uint64_t>, void* obs) {
  position_ = rng().uniform(-0.6, -0.4);
  velocity_ = 0.0;
  write_observation(obs);
}

StepResult MountainCar::step_impl(const void* action, void* obs) {
  const auto a = static_cast<double>(*static_cast<const int64_t*>(action));
  velocity_ += (a - 1) * params_.force + std::cos(3 * position_) * (-params_.gravity);
  velocity_ = std::clamp(velocity_, -kMaxSpeed, kMaxSpeed);
  position_ += velocity_;
  position_ = std::clamp(position_, kMinPosition, kMaxPosition);
  if (position_ == kMinPosition && velocity_ < 0) velocity_ = 0.0;
  write_observation(obs);
  const bool terminated = position_ >= kGoalPosition && velocity_ >= params_.goal_velocity;
  return {-1.0, terminated, false};
}

void MountainCar::set_state_impl(const std::vector<double>& state) {
  check_state_size(state, 2);
  position_ = state[0];
  velocity_ = state[1];
}

}  // namespace rlforge
