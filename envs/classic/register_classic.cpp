#include "rlforge/envs/classic/acrobot.h"
#include "rlforge/envs/classic/cartpole.h"
#include "rlforge/envs/classic/mountain_car.h"
#include "rlforge/envs/classic/mountain_car_continuous.h"
#include "rlforge/envs/classic/pendulum.h"
#include "rlforge/envs/registry.h"

namespace rlforge {

void register_classic_control_envs(EnvRegistry& registry) {
  registry.add({"CartPole-v1",
                "Balance a pole on a cart by pushing it left or right",
                {{"sutton_barto_reward", false,
                  "reward 0 per step and -1 on failure instead of +1 per step"}},
                [](const ResolvedOptions& o) {
                  return std::make_unique<CartPole>(
                      CartPole::Params{o.get_bool("sutton_barto_reward")});
                }});
  registry.add({"MountainCar-v0",
                "Drive an underpowered car up a hill with three discrete pushes",
                {{"goal_velocity", 0.0, "minimum velocity at the goal position"}},
                [](const ResolvedOptions& o) {
                  return std::make_unique<MountainCar>(
                      MountainCar::Params{o.get_double("goal_velocity")});
                }});
  registry.add({"MountainCarContinuous-v0",
                "Drive an underpowered car up a hill with a continuous force",
                {{"goal_velocity", 0.0, "minimum velocity at the goal position"}},
                [](const ResolvedOptions& o) {
                  return std::make_unique<MountainCarContinuous>(
                      MountainCarContinuous::Params{o.get_double("goal_velocity")});
                }});
  registry.add({"Pendulum-v1",
                "Swing a pendulum up and keep it upright with a limited torque",
                {{"g", 10.0, "gravitational acceleration"}},
                [](const ResolvedOptions& o) {
                  return std::make_unique<Pendulum>(Pendulum::Params{o.get_double("g")});
                }});
  registry.add({"Acrobot-v1",
                "Swing the tip of a two-link pendulum above a bar by torquing the middle joint",
                {},
                [](const ResolvedOptions&) { return std::make_unique<Acrobot>(); }});
}

}  // namespace rlforge
