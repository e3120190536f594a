// The YAML config: values land where they belong, and every mistake names file, line and key.
#include <catch2/catch.hpp>

#include "rlforge/trainers/config.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;

namespace {
const char* kValid = R"(run:
  seed: 3
env:
  id: CartPole-v1
  num_envs: 4
agent:
  n_steps: 16
  batch_size: 32
  learning_rate: 0.0005
  learning_rate_schedule: linear
  policy:
    actor: [32, 16]
trainer:
  total_steps: 5000
)";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(text, "test.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a valid config is read with defaults filled in", "[config]") {
  const ExperimentConfig c = parse_config(kValid, "configs/test.yaml");
  CHECK(c.run.name == "test");
  CHECK(c.run.seed == 3);
  CHECK(c.env.id == "CartPole-v1");
  CHECK(c.env.num_envs == 4);
  CHECK(c.ppo.n_steps == 16);
  CHECK(c.ppo.learning_rate == Approx(0.0005));
  CHECK(c.ppo.learning_rate_linear);
  CHECK(c.ppo.policy.actor.hidden == std::vector<int64_t>{32, 16});
  CHECK(c.ppo.policy.critic.hidden == std::vector<int64_t>{64, 64});
  CHECK(c.trainer.total_steps == 5000);
  CHECK(c.resolved["agent"]["gamma"].as<double>() == Approx(0.99));  // defaults are written out
  CHECK(c.resolved["agent"]["policy"]["actor"][1].as<int>() == 16);
}

TEST_CASE("overrides from --set reach any key, creating sections as needed", "[config]") {
  const ExperimentConfig c = parse_config(kValid, "test.yaml", {"agent.n_epochs=3", "env.options.sutton_barto_reward=true", "run.name=x"});
  CHECK(c.ppo.n_epochs == 3);
  CHECK(c.run.name == "x");
  CHECK(c.env.options.contains("sutton_barto_reward"));
}

TEST_CASE("config mistakes are one clear message with file, line and key", "[config][errors]") {
  CHECK_THAT(error_of(std::string(kValid) + "  n_step: 5\n"),
             Catch::Contains("test.yaml:15: unknown key 'trainer.n_step'") && Catch::Contains("total_steps"));
  CHECK_THAT(error_of(kValid, {"agent.batch_size=abc"}),
             Catch::Contains("agent.batch_size: expected a positive integer, got 'abc'"));
  CHECK_THAT(error_of(kValid, {"agent.n_steps=-4"}), Catch::Contains("agent.n_steps: expected a positive integer, got -4"));
  CHECK_THAT(error_of(kValid, {"agent.n_steps=2.5"}), Catch::Contains("agent.n_steps"));
  CHECK_THAT(error_of(kValid, {"agent.gamma=1.5"}), Catch::Contains("agent.gamma: expected a number in [0, 1], got 1.5"));
  CHECK_THAT(error_of(kValid, {"env.id=Nope-v0"}), Catch::Contains("env.id: unknown environment 'Nope-v0'") && Catch::Contains("CartPole-v1"));
  CHECK_THAT(error_of(kValid, {"env.options.gravity=3"}), Catch::Contains("has no option 'gravity'"));
  CHECK_THAT(error_of(kValid, {"agent.algo=sac"}), Catch::Contains("agent.algo: expected one of ppo, dqn, supervised, self_supervised, got 'sac'"));
  CHECK_THAT(error_of(kValid, {"agent.batch_size=1000"}), Catch::Contains("batch_size (1000) is larger than a rollout"));
  CHECK_THAT(error_of(kValid, {"agent.policy.activation=swish"}), Catch::Contains("agent.policy.activation"));
  CHECK_THAT(error_of(kValid, {"agent.use_sde=true"}),
             Catch::Contains("agent.use_sde: gSDE needs a continuous (Box) action space; CartPole-v1 has discrete actions"));
  CHECK_THAT(error_of(kValid, {"agent.sde_sample_freq=0"}),
             Catch::Contains("agent.sde_sample_freq: expected a positive integer or -1, got 0"));
  CHECK_THAT(error_of(kValid, {"trainer.checkpoint_every=0"}), Catch::Contains("trainer.checkpoint_every"));
  CHECK_THAT(error_of("run: [1, 2]\n"), Catch::Contains("test.yaml:1: run: expected a mapping"));
  CHECK_THAT(error_of("env: {id: CartPole-v1\n"), Catch::Contains("not valid YAML"));
  CHECK_THAT(error_of("agent: {n_steps: 8}\n"), Catch::Contains("env.id: is required"));
  CHECK_THAT(error_of(kValid, {"agent.n_epochs"}), Catch::Contains("expected key.path=value"));
  CHECK_THROWS_WITH(load_config("/nonexistent/x.yaml"), Catch::Contains("/nonexistent/x.yaml: cannot read"));
}

TEST_CASE("a device that is not there is a clear error; auto falls back to the CPU", "[config][device]") {
  CHECK(resolve_device("cpu") == torch::Device(torch::kCPU));
  if (!torch::cuda::is_available()) {
    CHECK(resolve_device("auto") == torch::Device(torch::kCPU));
    CHECK_THROWS_WITH(resolve_device("cuda"), Catch::Contains("CUDA is not available"));
    CHECK_THROWS_WITH(resolve_device("cuda:1"), Catch::Contains("CUDA is not available"));
  }
  CHECK_THROWS_WITH(resolve_device("tpu"), Catch::Contains("expected cpu, cuda, cuda:N or auto"));
}
