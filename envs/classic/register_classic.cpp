#include "rlforge/envs/classic/acrobot.h"
#include "rlforge/envs/classic/cartpole.h"
#include "rlforge/envs/classic/mountain_car.h"
#include "rlforge/envs/classic/mountain_car_continuous.h"
#include "rlforge/envs/classic/pendulum.h"
#include "rlforge/envs/registry.h"

namespace rlforge {

// The physical parameters carry Gymnasium's names and defaults (the defaults give Gymnasium's
// dynamics bit for bit); each help text gives the accepted range, which the env checks.
void register_classic_control_envs(EnvRegistry& registry) {
  const CartPole::Params cartpole;
  registry.add({"CartPole-v1",
                "Balance a pole on a cart by pushing it left or right",
                {{"sutton_barto_reward", false,
                  "reward 0 per step and -1 on failure instead of +1 per step"},
                 {"gravity", cartpole.gravity, "gravitational acceleration (m/s^2), >= 0"},
                 {"masscart", cartpole.masscart, "mass of the cart (kg), > 0"},
                 {"masspole", cartpole.masspole, "mass of the pole (kg), > 0"},
                 {"length", cartpole.length, "half the pole's length (m), as in Gymnasium, > 0"},
                 {"force_mag", cartpole.force_mag, "force of each push (N), >= 0"}},
                [](const ResolvedOptions& o) {
                  return std::make_unique<CartPole>(
                      CartPole::Params{o.get_bool("sutton_barto_reward"), o.get_double("gravity"),
                                       o.get_double("masscart"), o.get_double("masspole"),
                                       o.get_double("length"), o.get_double("force_mag")});
                }});
  const MountainCar::Params car;
  registry.add(
      {"MountainCar-v0",
       "Drive an underpowered car up a hill with three discrete pushes",
       {{"goal_velocity", 0.0, "minimum velocity at the goal position"},
        {"force", car.force, "velocity change per step of a push (actions 0 and 2), >= 0"},
        {"gravity", car.gravity, "velocity change per step from the slope, times cos(3 x), >= 0"}},
       [](const ResolvedOptions& o) {
         return std::make_unique<MountainCar>(MountainCar::Params{
             o.get_double("goal_velocity"), o.get_double("force"), o.get_double("gravity")});
       }});
  const MountainCarContinuous::Params continuous_car;
  registry.add({"MountainCarContinuous-v0",
                "Drive an underpowered car up a hill with a continuous force",
                {{"goal_velocity", 0.0, "minimum velocity at the goal position"},
                 {"power", continuous_car.power,
                  "velocity change per step at action 1 (the action scales it), >= 0"}},
                [](const ResolvedOptions& o) {
                  return std::make_unique<MountainCarContinuous>(MountainCarContinuous::Params{
                      o.get_double("goal_velocity"), o.get_double("power")});
                }});
  const Pendulum::Params pendulum;
  registry.add(
      {"Pendulum-v1",
       "Swing a pendulum up and keep it upright with a limited torque",
       {{"g", pendulum.g, "gravitational acceleration, >= 0"},
        {"m", pendulum.m, "mass at the end of the rod, > 0"},
        {"l", pendulum.l, "length of the rod, > 0"},
        {"max_torque", pendulum.max_torque,
         "largest torque, > 0: the action space is [-max_torque, max_torque] and actions are "
         "clipped to it"},
        {"max_speed", pendulum.max_speed,
         "largest angular speed, > 0: the speed is clipped to it and bounds the observation"}},
       [](const ResolvedOptions& o) {
         return std::make_unique<Pendulum>(
             Pendulum::Params{o.get_double("g"), o.get_double("m"), o.get_double("l"),
                              o.get_double("max_torque"), o.get_double("max_speed")});
       }});
  const Acrobot::Params acrobot;
  registry.add({"Acrobot-v1",
                "Swing the tip of a two-link pendulum above a bar by torquing the middle joint",
                {{"link_length_1", acrobot.link_length_1, "length of link 1 (m), > 0"},
                 {"link_length_2", acrobot.link_length_2,
                  "length of link 2 (m), > 0; as in Gymnasium only drawn: the dynamics place "
                  "link 2's mass at link_com_pos_2, and the goal test assumes unit links"},
                 {"link_mass_1", acrobot.link_mass_1, "mass of link 1 (kg), > 0"},
                 {"link_mass_2", acrobot.link_mass_2, "mass of link 2 (kg), > 0"},
                 {"link_com_pos_1", acrobot.link_com_pos_1,
                  "centre of mass of link 1 from its pivot (m), >= 0"},
                 {"link_com_pos_2", acrobot.link_com_pos_2,
                  "centre of mass of link 2 from its pivot (m), >= 0"},
                 {"link_moi", acrobot.link_moi,
                  "moment of inertia of each link about its centre of mass, > 0"}},
                [](const ResolvedOptions& o) {
                  return std::make_unique<Acrobot>(
                      Acrobot::Params{o.get_double("link_length_1"), o.get_double("link_length_2"),
                                      o.get_double("link_mass_1"), o.get_double("link_mass_2"),
                                      o.get_double("link_com_pos_1"),
                                      o.get_double("link_com_pos_2"), o.get_double("link_moi")});
                }});
}

}  // namespace rlforge
