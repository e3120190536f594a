#include "policy_kinds.h"

#include <stdexcept>

#include "rlforge/agents/ppo.h"
#include "rlforge/envs/numpy_random.h"
#include "rlforge/evaluation/env_tensors.h"
#include "rlforge/trainers/algorithm.h"

namespace rlforge::test {

std::vector<PolicyKind> policy_kinds() {
  return {
      {"ppo_discrete", "ppo_cartpole.yaml", {}},
      {"ppo_continuous_normalized", "ppo_pendulum.yaml", {"agent.normalize_observation=true"}},
      {"ppo_shared_gelu", "ppo_lunarlander.yaml", {"agent.policy.shared=true", "agent.policy.activation=gelu"}},
      {"ppo_gsde", "ppo_mountaincar_continuous.yaml", {}},
      {"ppo_cnn", "ppo_carracing.yaml", {}},
      {"dqn_mlp", "dqn_cartpole.yaml", {}},
      {"dqn_dueling_elu", "dqn_lunarlander.yaml", {"agent.policy.activation=elu"}},
      {"dqn_cnn", "dqn_cartpole.yaml", {"env.id=CarRacing-v3", "env.options={continuous: false}", "agent.policy.net_arch=[]"}},
      {"sac", "sac_pendulum.yaml", {}},
      {"sac_gsde", "sac_pendulum.yaml", {"agent.use_sde=true"}},
      {"td3", "td3_pendulum.yaml", {}},
      {"tqc", "tqc_bipedalwalker_hardcore.yaml", {}},
  };
}

PolicyKind policy_kind(const std::string& name) {
  for (const PolicyKind& k : policy_kinds()) {
    if (k.name == name) return k;
  }
  throw std::out_of_range("no policy kind " + name);
}

KindAgent make_kind_agent(const PolicyKind& kind, uint64_t seed) {
  KindAgent k;
  k.config = load_config(std::string(RLFORGE_SOURCE_DIR) + "/configs/" + kind.config, kind.overrides);
  k.spec = make_configured_env(k.config.env)->spec();
  k.agent = make_agent(k.config, k.spec, seed, torch::kCPU);
  if (auto* ppo = dynamic_cast<Ppo*>(k.agent.get()); ppo != nullptr && ppo->config().policy.normalize_observation) {
    torch::NoGradGuard no_grad;
    ppo->policy()->prepare(held_out_observations(k.config.env, 512, seed + 17), /*update_statistics=*/true);
  }
  return k;
}

torch::Tensor held_out_observations(const VectorEnvConfig& config, int64_t count, uint64_t seed) {
  std::unique_ptr<Env> env = make_configured_env(config);
  const EnvSpec& spec = env->spec();
  std::vector<int64_t> shape{count};
  shape.insert(shape.end(), spec.observation_space.shape().begin(), spec.observation_space.shape().end());
  torch::Tensor observations = torch::empty(shape, torch_dtype(spec.observation_space.dtype()));
  auto* rows = static_cast<uint8_t*>(observations.data_ptr());
  const std::size_t row_bytes = spec.observation_space.byte_size();
  NumpyGenerator actions(seed);
  std::vector<uint8_t> action(spec.action_space.byte_size());
  env->reset(seed, rows);
  for (int64_t i = 1; i < count; ++i) {
    uint8_t* next = rows + static_cast<std::size_t>(i) * row_bytes;
    spec.action_space.sample(actions, action.data());
    const StepResult r = env->step({action.data(), spec.action_space.dtype(), spec.action_space.size()}, next);
    if (r.terminated || r.truncated) env->reset(seed + static_cast<uint64_t>(i), next);
  }
  return observations;
}

torch::Tensor reference_actions(Agent& agent, const EnvSpec& spec, const torch::Tensor& observations) {
  torch::NoGradGuard no_grad;
  torch::Generator generator = at::detail::createCPUGenerator(0);
  torch::Tensor actions = agent.act(observations, /*deterministic=*/true, generator).to(torch::kCPU);
  if (spec.action_space.is_discrete()) return actions;
  const torch::Tensor low = torch::tensor(spec.action_space.low()), high = torch::tensor(spec.action_space.high());
  return torch::maximum(torch::minimum(actions.to(torch::kFloat32), high), low);
}

}  // namespace rlforge::test
