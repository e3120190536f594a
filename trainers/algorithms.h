#pragma once
// The algorithms make_algorithm() chooses from (private to trainers/).

#include <memory>

#include "rlforge/trainers/algorithm.h"

namespace rlforge {

std::unique_ptr<Algorithm> make_ppo_algorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device,
                                              Distributed* distributed);
std::unique_ptr<Algorithm> make_dqn_algorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device);
// SAC, TD3 and TQC (config.off_policy).
std::unique_ptr<Algorithm> make_off_policy_algorithm(const ExperimentConfig& config, VectorEnv& venv,
                                                     torch::Device device);

}  // namespace rlforge
