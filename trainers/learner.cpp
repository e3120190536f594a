#include "rlforge/trainers/learner.h"

#include "algorithms.h"
#include "rlforge/agents/dqn.h"
#include "rlforge/agents/off_policy.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/supervised_data.h"

namespace rlforge {

bool metric_lower_is_better(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name == "loss" || ends_with("_loss") || name == "mse" || name == "mae" || ends_with("_mse") ||
         ends_with("_mae") || name == "inertia" || name == "nll" || name == "bic";
}

// Every kind of learning is chosen here, from config.algo.
std::unique_ptr<Algorithm> make_algorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device,
                                          Distributed* distributed) {
  if (uses_replay_buffer(config.algo) && distributed != nullptr && distributed->active()) {
    throw ConfigError(replay_one_process_message(config.algo, distributed->world_size()));
  }
  if (config.algo == "dqn") return make_dqn_algorithm(config, venv, device);
  if (is_off_policy_actor_critic(config.algo)) return make_off_policy_algorithm(config, venv, device);
  return make_ppo_algorithm(config, venv, device, distributed);
}

std::unique_ptr<Agent> make_agent(const ExperimentConfig& config, const EnvSpec& spec, uint64_t seed,
                                  torch::Device device) {
  if (config.learns_from_data()) {
    if (config.supervised.task != "behaviour_cloning") {
      throw ConfigError("a " + config.supervised.task + " run has no policy to act in an env (its test metrics are in "
                        "the run's summary.yaml)");
    }
    return make_supervised_model(config, spec, 0, 0, seed, device);
  }
  if (config.algo == "dqn") return std::make_unique<Dqn>(spec, config.dqn, seed, device);
  if (is_off_policy_actor_critic(config.algo)) return std::make_unique<OffPolicyAgent>(spec, config.off_policy, seed, device);
  return std::make_unique<Ppo>(spec, config.ppo, seed, device);
}

std::unique_ptr<Learner> make_learner(const ExperimentConfig& config, torch::Device device, Distributed* distributed) {
  if (config.algo == "unsupervised") {
    if (distributed != nullptr && distributed->active()) {
      throw ConfigError("agent.algo unsupervised runs in one process (WORLD_SIZE is " +
                        std::to_string(distributed->world_size()) + ")");
    }
    return make_unsupervised_learner(config, device);
  }
  if (config.learns_from_data()) {
    const bool federated = config.algo == "supervised" && config.federated.enabled;
    if (!federated && distributed != nullptr && distributed->active()) {
      throw ConfigError("agent.algo " + config.algo + " runs in one process (WORLD_SIZE is " +
                        std::to_string(distributed->world_size()) +
                        "); data-parallel training is for PPO, federated averaging for supervised tables "
                        "(agent.federated.enabled)");
    }
    return make_supervised_learner(config, device, distributed);
  }
  return make_rl_learner(config, device, distributed);
}

}  // namespace rlforge
