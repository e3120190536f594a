#pragma once
// Evaluation of a policy on envs of its own, separate from the training envs.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "rlforge/agents/actor_critic.h"
#include "rlforge/agents/agent.h"
#include "rlforge/envs/episode_player.h"
#include "rlforge/envs/vector_env.h"

namespace rlforge {

struct EvaluationResult {
  double mean_return = 0;
  double std_return = 0;
  double mean_length = 0;
  int64_t episodes = 0;
};

// Actions for a batch of raw observations [B, ...] (the env's dtype, CPU): [B] or [B, d], any device.
using BatchPolicy = std::function<torch::Tensor(const torch::Tensor& observations)>;

// Every episode's return and length, in the order the episodes started: episode i of env k of the
// vector env is episode k + i * num_envs, so that two runs with the same seed pair episode for
// episode (the same start), whatever differs between them (a perturbation, an attack).
struct EpisodeOutcomes {
  std::vector<double> returns;
  std::vector<int64_t> lengths;
};
// Sees every batch of observations before the policy does (statistics of what the policy saw).
// `counted` [n] bool marks the rows whose episode is one of those counted (an env that has run its
// share keeps stepping until the others finish).
using ObservationHook = std::function<void(const torch::Tensor& observations, const torch::Tensor& counted)>;

// Runs exactly `episodes` episodes on a vector env built from `config`, seeded `seed`; each env
// runs its share whatever their lengths, so the result does not favour short episodes.
EpisodeOutcomes run_episodes(const BatchPolicy& policy, const VectorEnvConfig& config, int64_t episodes,
                             uint64_t seed, const ObservationHook& hook = {});

// The mean and spread of run_episodes.
EvaluationResult evaluate(const BatchPolicy& policy, const VectorEnvConfig& config, int64_t episodes, uint64_t seed);
// The same for any agent (PPO, DQN): its most likely action when `deterministic`.
EvaluationResult evaluate_agent(Agent& agent, const VectorEnvConfig& config, int64_t episodes, uint64_t seed,
                                bool deterministic, torch::Generator& generator);

// While it lives, `agent` acts with exploration noise of the evaluation's own (drawn from
// `generator` for `batch` envs) when actions are sampled; at its end training's noise is back.
class ExplorationScope {
 public:
  ExplorationScope(Agent& agent, bool deterministic, int64_t batch, torch::Generator& generator);
  ~ExplorationScope();
  ExplorationScope(const ExplorationScope&) = delete;
  ExplorationScope& operator=(const ExplorationScope&) = delete;

 private:
  Agent& agent_;
  bool active_;
  torch::Tensor saved_;
};

// Runs exactly `episodes` episodes (the first `episodes` to start, so the result does not
// favour short ones) on a vector env built from `config`, seeded `seed`.
EvaluationResult evaluate_policy(ActorCritic& policy, const VectorEnvConfig& config,
                                 int64_t episodes, uint64_t seed, bool deterministic,
                                 torch::Generator& generator);

// The policy as an action chooser for one env of `spec` (watching, recording): Box actions
// clipped to the action space, as the vector env's steps get them. `policy` and `generator` must
// outlive the chooser.
ActionChooser policy_actions(ActorCritic& policy, const EnvSpec& spec, bool deterministic,
                             torch::Generator& generator);
// The same for any agent, and for any batch policy (the chooser owns a copy of `policy`).
ActionChooser agent_actions(Agent& agent, const EnvSpec& spec, bool deterministic, torch::Generator& generator);
ActionChooser batch_policy_actions(BatchPolicy policy, const EnvSpec& spec);

}  // namespace rlforge
