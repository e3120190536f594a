#pragma once
// Every parameter and buffer (normalisation statistics included) of a PPO checkpoint, for tests
// that compare runs weight for weight.

#include <filesystem>
#include <string>
#include <vector>

#include "rlforge/trainers/trainer.h"

namespace rlforge::testing {

inline std::vector<torch::Tensor> weights_of(const std::filesystem::path& checkpoint, const char* config_yaml) {
  const ExperimentConfig config = parse_config(config_yaml, "test.yaml");
  VectorEnvConfig one = config.env;
  one.num_envs = 1;
  Ppo ppo(VectorEnv(one).spec(), config.ppo, 0);
  load_checkpoint(checkpoint.string(), ppo);
  std::vector<torch::Tensor> out;
  for (const auto& p : ppo.policy()->parameters()) out.push_back(p.detach().clone());
  for (const auto& b : ppo.policy()->buffers()) out.push_back(b.clone());
  return out;
}

}  // namespace rlforge::testing
