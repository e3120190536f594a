// In-training evaluation must not touch training's random numbers: however often it runs, with
// sampled or greedy actions, the training rows and final weights stay the same.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "../test_files.h"
#include "checkpoint_digest.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/evaluation/evaluation.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

struct Trained {
  std::string metrics;
  std::string weights;  // digests of last.pt's model and optimiser
};

Trained train(const std::string& name, const std::string& config, std::vector<std::string> overrides) {
  const fs::path dir = testing::fresh_dir("eval-isolation-" + name);
  std::ostringstream progress;
  Trainer trainer(load_config((fs::path(RLFORGE_SOURCE_DIR) / "configs" / config).string(), overrides),
                  (dir / "run").string(), progress);
  const TrainResult result = trainer.run();
  REQUIRE_FALSE(result.stopped);
  Trained out{testing::read_text(dir / "run" / "metrics.csv"), testing::checkpoint_digests(dir / "run" / "checkpoints" / "last.pt")};
  fs::remove_all(dir);
  return out;
}

void check_isolated(const std::string& config, const std::string& steps) {
  const std::vector<std::string> base{"trainer.total_steps=" + steps, "trainer.eval_episodes=2"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), base.begin(), base.end());
    return extra;
  };
  const Trained rare = train("rare", config, with({"trainer.eval_every=0", "trainer.eval_deterministic=true"}));
  const Trained often = train("often", config, with({"trainer.eval_every=512", "trainer.eval_deterministic=true"}));
  const Trained sampled = train("sampled", config,
                                with({"trainer.eval_every=512", "trainer.eval_deterministic=false", "trainer.eval_episodes=4"}));
  REQUIRE_FALSE(rare.metrics.empty());
  CHECK(often.metrics == rare.metrics);
  CHECK(sampled.metrics == rare.metrics);
  CHECK(often.weights == rare.weights);
  CHECK(sampled.weights == rare.weights);
}

}  // namespace

TEST_CASE("PPO trains the same whatever the in-training evaluation does", "[trainer][seeds]") {
  check_isolated("ppo_cartpole.yaml", "2048");
}

TEST_CASE("PPO with gSDE trains the same whatever the in-training evaluation does", "[trainer][seeds]") {
  // Sampled evaluation actions use gSDE noise of their own, drawn for the evaluation's envs,
  // never training's noise; recording keeps its own too.
  check_isolated("ppo_mountaincar_continuous.yaml", "2048");
}

TEST_CASE("DQN trains the same whatever the in-training evaluation does", "[trainer][seeds]") {
  check_isolated("dqn_cartpole.yaml", "2000");
}

TEST_CASE("a sampled evaluation with gSDE draws noise of its own and gives training's back", "[trainer][seeds]") {
  VectorEnvConfig env;
  env.id = "MountainCarContinuous-v0";
  env.num_envs = 4;
  const EnvSpec spec = VectorEnv(env).spec();
  PpoConfig config;
  config.policy.use_sde = true;
  config.policy.log_std_init = 0.5;  // noise large enough to change episodes
  // Two agents with the same weights whose training noise differs (different training draws).
  Ppo a(spec, config, 7), b(spec, config, 7);
  torch::Generator ga = at::detail::createCPUGenerator(1), gb = at::detail::createCPUGenerator(2);
  a.reset_exploration(4, ga);
  b.reset_exploration(4, gb);
  const torch::Tensor a_noise = a.exploration_state(), b_noise = b.exploration_state();
  REQUIRE_FALSE(torch::equal(a_noise, b_noise));

  // Same batch size as training's (4 envs), where acting would otherwise reuse training's noise.
  torch::Generator ea = at::detail::createCPUGenerator(99), eb = at::detail::createCPUGenerator(99);
  const EvaluationResult ra = evaluate_agent(a, env, 4, 1234, /*deterministic=*/false, ea);
  const EvaluationResult rb = evaluate_agent(b, env, 4, 1234, /*deterministic=*/false, eb);
  CHECK(ra.mean_return == rb.mean_return);  // the evaluation's noise, not training's
  CHECK(torch::equal(a.exploration_state(), a_noise));  // training's noise is back
  CHECK(torch::equal(b.exploration_state(), b_noise));
}
