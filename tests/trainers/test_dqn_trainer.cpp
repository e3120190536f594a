// DQN through the Trainer: config checks, metrics.csv, exact resume with the replay buffer saved,
// and resume that refills it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../test_files.h"
#include "rlforge/agents/dqn.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

const char* kConfig =
    "run: {seed: 3}\n"
    "env: {id: CartPole-v1, num_envs: 2}\n"
    "agent:\n"
    "  algo: dqn\n"
    "  buffer_size: 5000\n"
    "  learning_starts: 300\n"
    "  batch_size: 32\n"
    "  train_freq: 4\n"
    "  gradient_steps: 2\n"
    "  target_update_interval: 100\n"
    "  exploration_fraction: 0.5\n"
    "  n_step: 2\n"
    "  prioritized_replay: true\n"
    "  policy: {net_arch: [32, 32]}\n"
    "trainer: {total_steps: 3000, eval_every: 1000, eval_episodes: 2, log_every: 1000, checkpoint_every: 1000}\n";

TrainResult train(const fs::path& dir, const std::vector<std::string>& overrides = {}, RunControl control = {},
                  std::ostream* log = nullptr) {
  std::ostringstream progress;
  Trainer trainer(parse_config(kConfig, "dqn_test.yaml", overrides), dir.string(), log ? *log : progress);
  return trainer.run(control);
}

std::vector<torch::Tensor> weights_of(const fs::path& checkpoint) {
  const ExperimentConfig config = parse_config(kConfig, "dqn_test.yaml");
  VectorEnvConfig one = config.env;
  one.num_envs = 1;
  Dqn dqn(VectorEnv(one).spec(), config.dqn, 0);
  load_checkpoint(checkpoint.string(), dqn);
  std::vector<torch::Tensor> out;
  for (const auto& p : dqn.q_network()->parameters()) out.push_back(p.detach().clone());
  for (const auto& p : dqn.target_network()->parameters()) out.push_back(p.detach().clone());
  return out;
}

std::string config_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(text, "dqn.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("DQN config refuses a continuous action space", "[dqn][config]") {
  const std::string e = config_error("env: {id: MountainCarContinuous-v0}\nagent:\n  algo: dqn\n");
  CHECK_THAT(e, Catch::StartsWith("dqn.yaml:3: agent.algo: dqn needs a Discrete action space, got Box("));
  CHECK_THAT(e, Catch::Contains("MountainCarContinuous-v0"));
}

TEST_CASE("DQN config refuses a batch above learning_starts", "[dqn][config]") {
  const std::string e =
      config_error("env: {id: CartPole-v1}\nagent:\n  algo: dqn\n  learning_starts: 100\n  batch_size: 256\n");
  CHECK_THAT(e, Catch::StartsWith("dqn.yaml:5: agent.batch_size: 256 is more than the 100 transitions"));
  CHECK_THAT(e, Catch::Contains("learning_starts 100"));
  // learning_starts 0: the first batches are drawn with replacement from what is there.
  CHECK(config_error("env: {id: CartPole-v1}\nagent: {algo: dqn, learning_starts: 0, batch_size: 256}\n") == "(no error)");
}

TEST_CASE("DQN config refuses a buffer larger than memory", "[dqn][config]") {
  const std::string e = config_error("env: {id: CartPole-v1}\nagent:\n  algo: dqn\n  buffer_size: 1000000000000\n");
  CHECK_THAT(e, Catch::StartsWith("dqn.yaml:4: agent.buffer_size: a replay buffer of 1000000000000 transitions"));
  CHECK_THAT(e, Catch::Contains("GiB") && Catch::Contains("MemAvailable"));
}

TEST_CASE("DQN config refuses PPO keys and bad values", "[dqn][config]") {
  CHECK_THAT(config_error("env: {id: CartPole-v1}\nagent:\n  algo: dqn\n  n_steps: 5\n"),
             Catch::Contains("unknown key 'agent.n_steps'"));
  CHECK_THAT(config_error("env: {id: CartPole-v1}\nagent:\n  algo: dqn\n  tau: 1.5\n"),
             Catch::StartsWith("dqn.yaml:4: agent.tau: expected a number in (0, 1]"));
  CHECK_THAT(config_error("env: {id: CartPole-v1}\nagent:\n  algo: dqn\n  gradient_steps: 0\n"),
             Catch::Contains("agent.gradient_steps"));
  CHECK_THAT(config_error("env: {id: CartPole-v1}\nagent:\n  algo: dqn\n  loss: l1\n"),
             Catch::Contains("expected one of"));
}

TEST_CASE("DQN run writes its metrics and resumes exactly", "[dqn][trainer][resume]") {
  const fs::path whole = testing::fresh_dir("dqn-whole"), parts = testing::fresh_dir("dqn-parts");
  const TrainResult a = train(whole);
  CHECK(a.env_steps == 3000);
  const std::string metrics = testing::read_text(whole / "metrics.csv");
  CHECK_THAT(metrics, Catch::StartsWith("env_steps,episodes,mean_return,mean_length,loss,q_mean,exploration_rate,"
                                        "learning_rate,gradient_steps,replay_size,beta\n"));
  CHECK(fs::exists(whole / "checkpoints" / "replay.bin"));
  const std::string summary = testing::read_text(whole / "summary.yaml");
  CHECK_THAT(summary, Catch::Contains("acting:") && Catch::Contains("replay_add:") && Catch::Contains("update:"));

  RunControl stop;
  stop.stop_after_steps = 1500;
  const TrainResult first = train(parts, {}, stop);
  CHECK(first.stopped);
  RunControl resume;
  resume.resume = true;
  const TrainResult b = train(parts, {}, resume);
  CHECK(b.env_steps == a.env_steps);
  CHECK(b.final_eval.mean_return == a.final_eval.mean_return);
  const auto wa = weights_of(whole / "checkpoints" / "last.pt");
  const auto wb = weights_of(parts / "checkpoints" / "last.pt");
  REQUIRE(wa.size() == wb.size());
  for (std::size_t i = 0; i < wa.size(); ++i) {
    INFO("tensor " << i);
    CHECK(torch::equal(wa[i], wb[i]));
  }
  CHECK(testing::read_text(whole / "metrics.csv") == testing::read_text(parts / "metrics.csv"));
  CHECK(testing::read_text(whole / "eval.csv") == testing::read_text(parts / "eval.csv"));
  fs::remove_all(whole);
  fs::remove_all(parts);
}

TEST_CASE("DQN resume without the buffer refills it", "[dqn][trainer][resume]") {
  const fs::path dir = testing::fresh_dir("dqn-refill");
  RunControl stop;
  stop.stop_after_steps = 1500;
  train(dir, {"agent.save_replay_buffer=false"}, stop);
  CHECK_FALSE(fs::exists(dir / "checkpoints" / "replay.bin"));
  RunControl resume;
  resume.resume = true;
  std::ostringstream log;
  const TrainResult b = train(dir, {"agent.save_replay_buffer=false"}, resume, &log);
  CHECK_FALSE(b.stopped);
  CHECK(b.env_steps == 3000);
  CHECK_THAT(log.str(), Catch::Contains("resuming without the replay buffer"));
  fs::remove_all(dir);
}
