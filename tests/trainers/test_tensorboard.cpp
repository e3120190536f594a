// TensorBoard event files: CRC32C against its published check value, records read back with
// their CRCs verified, damage detected, and a training run's scalars under their tags.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "../test_files.h"
#include "rlforge/trainers/tensorboard.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

TEST_CASE("CRC-32C matches its check value", "[tensorboard]") {
  const std::string check = "123456789";
  CHECK(crc32c(check.data(), check.size()) == 0xE3069283u);
  CHECK(crc32c("", 0) == 0u);
}

TEST_CASE("scalars written to an event file read back with valid CRCs", "[tensorboard]") {
  const fs::path dir = testing::fresh_dir("tb");
  std::string path;
  {
    TensorBoardWriter writer(dir.string());
    path = writer.path();
    writer.add_scalar("loss/policy", 0.25, 10);
    writer.add_scalar("eval/mean_return", -123.5, 2000);
    writer.add_scalar("eval/mean_return", 500.0, 4000);
  }
  CHECK(fs::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
  const auto events = read_tensorboard_scalars(path);
  REQUIRE(events.size() == 3);
  CHECK(events[0].tag == "loss/policy");
  CHECK(events[0].value == 0.25f);
  CHECK(events[0].step == 10);
  CHECK(events[1].value == -123.5f);
  CHECK(events[2].step == 4000);
  CHECK(events[2].wall_time > 1.6e9);

  // Flip one byte of the payload of the last record: its data CRC no longer matches.
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-8, std::ios::end);
  f.put('\x7f');
  f.close();
  CHECK_THROWS_WITH(read_tensorboard_scalars(path), Catch::Contains("bad data CRC"));
  fs::remove_all(dir);
}

TEST_CASE("a training run logs its scalars to TensorBoard under clear tags", "[tensorboard][trainer]") {
  const fs::path dir = testing::fresh_dir("run");
  ExperimentConfig config = parse_config(
      "env: {id: CartPole-v1, num_envs: 4}\n"
      "agent: {n_steps: 32, batch_size: 64, n_epochs: 2}\n"
      "trainer: {total_steps: 512, eval_every: 256, eval_episodes: 2, log_every: 256}\n",
      "tb_test.yaml");
  std::ostringstream progress;
  Trainer trainer(config, dir.string(), progress);
  const TrainResult result = trainer.run();
  CHECK(result.env_steps == 512);
  std::string events_file;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) events_file = entry.path().string();
  }
  REQUIRE_FALSE(events_file.empty());
  const auto events = read_tensorboard_scalars(events_file);
  std::set<std::string> tags;
  for (const auto& e : events) tags.insert(e.tag);
  for (const char* tag : {"loss/policy", "loss/value", "loss/entropy", "ppo/approx_kl", "ppo/clip_fraction",
                          "schedule/learning_rate", "eval/mean_return", "rollout/episode_return", "time/steps_per_second"}) {
    INFO(tag);
    CHECK(tags.count(tag) == 1);
  }
  int policy_rows = 0;
  for (const auto& e : events) policy_rows += e.tag == "loss/policy";
  CHECK(policy_rows == 4);  // one per update: 512 steps / (4 envs x 32 steps)
  fs::remove_all(dir);
}
