// DQN really learns: CartPole-v1 solved with the RL Zoo's hyperparameters, through the Trainer.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

TEST_CASE("DQN solves CartPole-v1 within 50k steps", "[learning][dqn]") {
  // configs/dqn_cartpole.yaml (RL Zoo's dqn.yml for CartPole-v1).
  const char* config =
      "run: {seed: 1}\n"
      "env: {id: CartPole-v1, num_envs: 1}\n"
      "agent:\n"
      "  algo: dqn\n"
      "  learning_rate: 0.0023\n"
      "  batch_size: 64\n"
      "  buffer_size: 100000\n"
      "  learning_starts: 1000\n"
      "  gamma: 0.99\n"
      "  target_update_interval: 10\n"
      "  train_freq: 256\n"
      "  gradient_steps: 128\n"
      "  exploration_fraction: 0.16\n"
      "  exploration_final_eps: 0.04\n"
      "  policy: {net_arch: [256, 256]}\n"
      "trainer: {total_steps: 50000, eval_every: 0, eval_episodes: 20}\n";
  const fs::path dir = fs::temp_directory_path() / ("rlforge-dqn-learning-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::ostringstream progress;
  Trainer trainer(parse_config(config, "dqn_cartpole.yaml"), dir.string(), progress);
  const TrainResult r = trainer.run();
  INFO("final eval " << r.final_eval.mean_return << " +- " << r.final_eval.std_return << " in " << r.wall_seconds << " s");
  CHECK(r.final_eval.episodes == 20);
  CHECK(r.final_eval.mean_return >= 475.0);
  fs::remove_all(dir);
}
