#include "rlforge/envs/box2d/bipedal_walker.h"
#include "rlforge/envs/box2d/car_racing.h"
#include "rlforge/envs/box2d/lunar_lander.h"
#include "rlforge/envs/registry.h"

namespace rlforge {

namespace {
std::vector<OptionDecl> lander_options(bool continuous) {
  return {{"continuous", continuous,
           "continuous [main, lateral] actions instead of four discrete ones"},
          {"gravity", -10.0, "gravitational acceleration, in (-12, 0)"},
          {"enable_wind", false,
           "a varying sideways wind and turbulence while no leg touches the ground"},
          {"wind_power", 15.0, "peak wind force (Gymnasium advises 0 to 20)"},
          {"turbulence_power", 1.5, "peak turbulence torque (Gymnasium advises 0 to 2)"},
          {"main_engine_power", LunarLander::Params{}.main_engine_power,
           "impulse of the main engine at full throttle (Gymnasium's MAIN_ENGINE_POWER), >= 0"},
          {"side_engine_power", LunarLander::Params{}.side_engine_power,
           "impulse of a side engine at full throttle (Gymnasium's SIDE_ENGINE_POWER), >= 0"}};
}

std::unique_ptr<Env> make_lander(const ResolvedOptions& o) {
  return std::make_unique<LunarLander>(LunarLander::Params{
      o.get_bool("continuous"), o.get_double("gravity"), o.get_bool("enable_wind"),
      o.get_double("wind_power"), o.get_double("turbulence_power"),
      o.get_double("main_engine_power"), o.get_double("side_engine_power")});
}

std::vector<OptionDecl> walker_options(bool hardcore) {
  const BipedalWalker::Params defaults;
  return {{"hardcore", hardcore, "stumps, stairs and pits on the way"},
          {"motor_torque", defaults.motor_torque,
           "largest torque of each hip and knee motor (Gymnasium's MOTORS_TORQUE), >= 0; the "
           "reward's torque cost stays that of 80"},
          {"hull_density", defaults.hull_density, "density of the hull, > 0"},
          {"terrain_roughness", defaults.terrain_roughness,
           "multiplier of the random slope changes of the grass terrain, >= 0 (0: flat grass)"}};
}
}  // namespace

void register_box2d_envs(EnvRegistry& registry) {
  registry.add({"LunarLander-v3", "Land a rocket on a pad with a main and two side engines", lander_options(false),
                make_lander});
  registry.add({"LunarLanderContinuous-v3", "LunarLander with throttled continuous engine controls",
                lander_options(true), make_lander});
  auto make_walker = [](const ResolvedOptions& o) {
    return std::make_unique<BipedalWalker>(
        BipedalWalker::Params{o.get_bool("hardcore"), o.get_double("motor_torque"),
                              o.get_double("hull_density"), o.get_double("terrain_roughness")});
  };
  registry.add({"BipedalWalker-v3", "Walk a two-legged robot across rough terrain with four motors",
                walker_options(false), make_walker});
  registry.add({"BipedalWalkerHardcore-v3", "BipedalWalker with stumps, stairs and pits",
                walker_options(true), make_walker});
  const CarRacing::Params car;
  registry.add({"CarRacing-v3",
                "Drive a car round a random track from 96x96 pixels",
                {{"continuous", true, "[steer, gas, brake] actions instead of five discrete ones"},
                 {"lap_complete_percent", 0.95,
                  "fraction of tiles, in (0, 1], after which touching tile 0 ends the lap (as in "
                  "Gymnasium, tile 0 is touched at the start, so in effect every tile)"},
                 {"domain_randomize", false,
                  "random road, background and grass colours each reset"},
                 {"observation_render", std::string("gymnasium"),
                  "gymnasium: drawn at 1000x800 and shrunk by area averaging, as Gymnasium's "
                  "pixels; fast: drawn at 96x96 directly (cheaper, other pixels)"},
                 {"engine_power", car.engine_power,
                  "power into each rear wheel at full gas (Gymnasium's ENGINE_POWER, "
                  "car_dynamics.py), >= 0"},
                 {"friction_limit", car.friction_limit,
                  "largest force a tyre transmits on road, 0.6 of it on grass (Gymnasium's "
                  "FRICTION_LIMIT), > 0"},
                 {"road_friction", car.road_friction,
                  "friction of every road tile (Gymnasium's tile road_friction), > 0; on road the "
                  "tyres' limit is max(0.6, road_friction) x friction_limit, as in Gymnasium"}},
                [](const ResolvedOptions& o) {
                  const std::string& render = o.get_string("observation_render");
                  if (render != "gymnasium" && render != "fast") {
                    throw EnvError("CarRacing-v3: observation_render must be gymnasium or fast, got '" + render + "'");
                  }
                  CarRacing::Params p;
                  p.continuous = o.get_bool("continuous");
                  p.lap_complete_percent = o.get_double("lap_complete_percent");
                  p.domain_randomize = o.get_bool("domain_randomize");
                  p.observation_render = render == "gymnasium"
                                             ? CarRacing::Params::ObservationRender::kGymnasium
                                             : CarRacing::Params::ObservationRender::kFast;
                  p.engine_power = o.get_double("engine_power");
                  p.friction_limit = o.get_double("friction_limit");
                  p.road_friction = o.get_double("road_friction");
                  return std::make_unique<CarRacing>(p);
                }});
}

}  // namespace rlforge
