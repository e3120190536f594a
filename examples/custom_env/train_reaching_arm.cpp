// Trains ReachingArm-v0 without a plugin: the env is compiled into this program and registered
// in code, then rlforge's Trainer runs the config as `rlforge train` would.
//
//   train_reaching_arm [CONFIG] [key=value ...]     (default CONFIG: config.yaml next to it)
#include <rlforge/trainers/trainer.h>

#include <exception>
#include <iostream>

#include "reaching_arm.h"

int main(int argc, char** argv) {
  try {
    // The env is part of this program: register it before the config names it.
    reaching_arm::register_envs(rlforge::env_registry());

    const std::string config_path = argc > 1 ? argv[1] : "config.yaml";
    // The config's env.plugin would register the same env a second time from the plugin.
    std::vector<std::string> overrides = {"env.plugin="};
    for (int i = 2; i < argc; ++i) overrides.emplace_back(argv[i]);
    rlforge::ExperimentConfig config = rlforge::load_config(config_path, overrides);

    const std::string run_dir = rlforge::make_run_dir(config.run.out_dir, config.run.name);
    std::cout << "run directory: " << run_dir << std::endl;
    rlforge::Trainer trainer(std::move(config), run_dir, std::cout);
    const rlforge::TrainResult result = trainer.run();
    std::cout << "env_steps: " << result.env_steps << "\n"
              << "wall_seconds: " << result.wall_seconds << "\n"
              << "final_eval: mean_return " << result.final_eval.mean_return << " std_return "
              << result.final_eval.std_return << " episodes " << result.final_eval.episodes << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "train_reaching_arm: error: " << e.what() << std::endl;
    return 1;
  }
}
