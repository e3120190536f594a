#pragma once
// The policy kinds an export must cover, each as a shipped config with overrides, built with
// random weights (an export carries whatever weights the agent has), and the held-out
// observations the exports are checked on. Shared by the Catch2 tests and the fixture program
// that the Python runtimes' test reads.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/trainers/config.h"

namespace rlforge::test {

struct PolicyKind {
  std::string name;
  std::string config;  // under configs/
  std::vector<std::string> overrides;
};

// PPO (discrete, continuous with normalised observations, a shared GELU trunk, gSDE, the CNN),
// DQN (MLP, dueling ELU, CNN), SAC, TD3 and TQC. (Behaviour cloning exports ActorCritic's graph,
// as PPO does; its config needs a recorded dataset.)
std::vector<PolicyKind> policy_kinds();
// The kind of that name (std::out_of_range otherwise).
PolicyKind policy_kind(const std::string& name);

struct KindAgent {
  ExperimentConfig config;
  EnvSpec spec;
  std::unique_ptr<Agent> agent;
};
// The kind's agent with weights drawn from `seed`; normalised observations get statistics of
// the env's own observations, so that the export's normalisation is not the identity.
KindAgent make_kind_agent(const PolicyKind& kind, uint64_t seed);

// `count` observations of episodes on held-out seeds from `seed`, driven by uniformly random
// actions (a wider spread of states than the untrained policy's own).
torch::Tensor held_out_observations(const VectorEnvConfig& env, int64_t count, uint64_t seed);

// The action rlforge gives the env for `observations`: act(deterministic), Box actions clipped
// to the action space's bounds.
torch::Tensor reference_actions(Agent& agent, const EnvSpec& spec, const torch::Tensor& observations);

}  // namespace rlforge::test
