#include "rlforge/envs/box2d/bipedal_walker.h"
#include "rlforge/envs/box2d/car_racing.h"
#include "rlforge/envs/box2d/lunar_lander.h"
#include "rlforge/envs/registry.h"

namespace rlforge {

namespace {
std::vector<OptionDecl> lander_options(bool continuous) {
  return {{"continuous", continuous, "continuous [main, lateral] actions instead of four discrete ones"},
          {"gravity", -10.0, "gravitational acceleration, in (-12, 0)"},
          {"enable_wind", false, "a varying sideways wind and turbulence while no leg touches the ground"},
          {"wind_power", 15.0, "peak wind force (Gymnasium advises 0 to 20)"},
          {"turbulence_power", 1.5, "peak turbulence torque (Gymnasium advises 0 to 2)"}};
}

std::unique_ptr<Env> make_lander(const ResolvedOptions& o) {
  return std::make_unique<LunarLander>(LunarLander::Params{o.get_bool("continuous"), o.get_double("gravity"),
                                                           o.get_bool("enable_wind"), o.get_double("wind_power"),
                                                           o.get_double("turbulence_power")});
}
}  // namespace

void register_box2d_envs(EnvRegistry& registry) {
  registry.add({"LunarLander-v3", "Land a rocket on a pad with a main and two side engines", lander_options(false),
                make_lander});
  registry.add({"LunarLanderContinuous-v3", "LunarLander with throttled continuous engine controls",
                lander_options(true), make_lander});
  auto make_walker = [](const ResolvedOptions& o) {
    return std::make_unique<BipedalWalker>(BipedalWalker::Params{o.get_bool("hardcore")});
  };
  registry.add({"BipedalWalker-v3", "Walk a two-legged robot across rough terrain with four motors",
                {{"hardcore", false, "stumps, stairs and pits on the way"}}, make_walker});
  registry.add({"BipedalWalkerHardcore-v3", "BipedalWalker with stumps, stairs and pits",
                {{"hardcore", true, "stumps, stairs and pits on the way"}}, make_walker});
  registry.add({"CarRacing-v3", "Drive a car round a random track from 96x96 pixels",
                {{"continuous", true, "[steer, gas, brake] actions instead of five discrete ones"},
                 {"lap_complete_percent", 0.95, "fraction of tiles, in (0, 1], after which touching tile 0 ends the lap (as in Gymnasium, tile 0 is touched at the start, so in effect every tile)"},
                 {"domain_randomize", false, "random road, background and grass colours each reset"},
                 {"observation_render", std::string("gymnasium"),
                  "gymnasium: drawn at 1000x800 and shrunk by area averaging, as Gymnasium's pixels; fast: drawn at 96x96 directly (cheaper, other pixels)"}},
                [](const ResolvedOptions& o) {
                  const std::string& render = o.get_string("observation_render");
                  if (render != "gymnasium" && render != "fast") {
                    throw EnvError("CarRacing-v3: observation_render must be gymnasium or fast, got '" + render + "'");
                  }
                  return std::make_unique<CarRacing>(CarRacing::Params{
                      o.get_bool("continuous"), o.get_double("lap_complete_percent"), o.get_bool("domain_randomize"),
                      render == "gymnasium" ? CarRacing::Params::ObservationRender::kGymnasium
                                            : CarRacing::Params::ObservationRender::kFast});
                }});
}

}  // namespace rlforge
