#include "rlforge/trainers/learner.h"

#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/supervised_data.h"

namespace rlforge {

bool metric_lower_is_better(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name == "loss" || ends_with("_loss") || name == "mse" || name == "mae" || ends_with("_mse") ||
         ends_with("_mae");
}

std::unique_ptr<Learner> make_learner(const ExperimentConfig& config, torch::Device device, Distributed* distributed) {
  if (config.learns_from_data()) {
    if (distributed != nullptr && distributed->active()) {
      throw ConfigError("agent.algo " + config.algo + " runs in one process (WORLD_SIZE is " +
                        std::to_string(distributed->world_size()) + "); data-parallel training is for PPO");
    }
    return make_supervised_learner(config, device);
  }
  return make_rl_learner(config, device, distributed);
}

}  // namespace rlforge
