// DP-SGD in the supervised learner: the accountant's epsilon in metrics and summary, the noise
// multiplier solved for a target, exact resume, and the config's rules.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <sstream>

#include "../test_files.h"
#include "config_error.h"
#include "rlforge/stats/privacy_accountant.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

// A generated three-class table trained with DP-SGD; `dp` is the agent.optimizer.dp map.
std::string private_table(const std::string& dp = "noise_multiplier: 1.0, max_grad_norm: 1.0, delta: 1.0e-5") {
  return "run: {seed: 5}\n"
         "data: {generate: classification, rows: 1500, features: 8, classes: 3, class_separation: 1.5}\n"
         "agent:\n"
         "  algo: supervised\n"
         "  task: classification\n"
         "  batch_size: 64\n"
         "  optimizer: {name: adam, learning_rate: 0.005, dp: {" + dp + "}}\n"
         "  network: {hidden: [32, 32]}\n"
         "trainer: {epochs: 8}\n";
}
const std::string kPrivateTable = private_table();

TrainResult train(const std::string& yaml, const fs::path& dir, const std::vector<std::string>& overrides = {},
                  RunControl control = {}) {
  std::ostringstream progress;
  Trainer trainer(parse_config(yaml, "private_test.yaml", overrides), dir.string(), progress);
  return trainer.run(control);
}


}  // namespace

TEST_CASE("a DP-SGD run learns and reports the epsilon the accountant gives for its steps", "[supervised][privacy]") {
  const fs::path dir = testing::fresh_dir("private-table");
  train(kPrivateTable, dir);
  const YAML::Node summary = YAML::LoadFile((dir / "summary.yaml").string());
  INFO(testing::read_text(dir / "summary.yaml"));
  const YAML::Node privacy = summary["privacy"];
  REQUIRE(privacy.IsMap());
  // 1,050 training rows in batches of 64: q = 64 / 1050, 17 steps an epoch, 8 epochs.
  const double q = 64.0 / 1050.0;
  CHECK(privacy["sample_rate"].as<double>() == Approx(q));
  CHECK(privacy["steps"].as<int64_t>() == 8 * 17);
  CHECK(privacy["noise_multiplier"].as<double>() == 1.0);
  const double epsilon = stats::dp_sgd_epsilon(q, 1.0, 8 * 17, 1e-5).epsilon;
  CHECK(privacy["epsilon"].as<double>() == Approx(epsilon));
  // Well above chance (1/3) despite the noise; the non-private run reaches about 0.9.
  CHECK(summary["test"]["accuracy"].as<double>() >= 0.7);
  // metrics.csv: epsilon grows every epoch and ends at the summary's.
  const std::string metrics = testing::read_text(dir / "metrics.csv");
  CHECK_THAT(metrics, Catch::StartsWith("epoch,train_loss,train_accuracy,learning_rate,epsilon,clipped_fraction,grad_norm\n"));
  std::istringstream lines(metrics);
  std::string line;
  std::getline(lines, line);
  double previous = 0, last = 0;
  int rows = 0;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    REQUIRE(cells.size() == 7);
    last = std::stod(cells[4]);
    CHECK(last > previous);
    previous = last;
    const double clipped = std::stod(cells[5]);
    CHECK(clipped >= 0);
    CHECK(clipped <= 1);
    ++rows;
  }
  CHECK(rows == 8);
  CHECK(last == Approx(epsilon).epsilon(1e-5));
}

TEST_CASE("with target_epsilon the run spends at most its target", "[supervised][privacy]") {
  const fs::path dir = testing::fresh_dir("private-target");
  train(private_table("target_epsilon: 2.0"), dir);
  const YAML::Node privacy = YAML::LoadFile((dir / "summary.yaml").string())["privacy"];
  const double sigma = privacy["noise_multiplier"].as<double>();
  CHECK(privacy["target_epsilon"].as<double>() == 2.0);
  CHECK(privacy["epsilon"].as<double>() <= 2.0);
  CHECK(sigma == Approx(stats::dp_sgd_noise_multiplier(64.0 / 1050.0, 8 * 17, 1e-5, 2.0)));
  // Less noise would overspend.
  CHECK(stats::dp_sgd_epsilon(64.0 / 1050.0, sigma * 0.999, 8 * 17, 1e-5).epsilon > 2.0);
}

TEST_CASE("a DP-SGD run stopped and resumed ends like an uninterrupted one", "[supervised][privacy]") {
  const fs::path whole = testing::fresh_dir("private-whole"), parts = testing::fresh_dir("private-parts");
  const std::vector<std::string> shorter{"trainer.epochs=4"};
  train(kPrivateTable, whole, shorter);
  RunControl stop;
  stop.stop_after_steps = 2;
  CHECK(train(kPrivateTable, parts, shorter, stop).stopped);
  RunControl resume;
  resume.resume = true;
  CHECK_FALSE(train(kPrivateTable, parts, shorter, resume).stopped);
  // Sampling and noise continue from the saved generator; epsilon from the steps taken.
  CHECK(testing::read_text(parts / "metrics.csv") == testing::read_text(whole / "metrics.csv"));
  CHECK(YAML::LoadFile((parts / "summary.yaml").string())["privacy"]["epsilon"].as<double>() ==
        YAML::LoadFile((whole / "summary.yaml").string())["privacy"]["epsilon"].as<double>());
}

TEST_CASE("DP-SGD settings are checked before anything runs", "[supervised][privacy][config]") {
  CHECK_THAT(testing::config_error_of(kPrivateTable, {"agent.optimizer.dp.target_epsilon=3"}),
             Catch::Contains("agent.optimizer.dp.target_epsilon") && Catch::Contains("not both"));
  CHECK_THAT(testing::config_error_of(kPrivateTable, {"agent.optimizer.dp.noise_multiplier=-1"}),
             Catch::Contains("agent.optimizer.dp.noise_multiplier") && Catch::Contains(">= 0"));
  // A run's resolved config.yaml writes every key, the unused one as 0: it must load again.
  CHECK(parse_config(private_table("noise_multiplier: 0, target_epsilon: 2"), "resolved.yaml", {}).supervised.optimizer.dp.enabled);
  CHECK_FALSE(parse_config(private_table("noise_multiplier: 0, target_epsilon: 0"), "resolved.yaml", {}).supervised.optimizer.dp.enabled);
  CHECK_THAT(testing::config_error_of(kPrivateTable, {"agent.optimizer.dp.delta=1"}), Catch::Contains("agent.optimizer.dp.delta"));
  CHECK_THAT(testing::config_error_of(private_table("max_grad_norm: 2"), {}),
             Catch::Contains("agent.optimizer.dp.max_grad_norm") && Catch::Contains("needs agent.optimizer.dp.noise_multiplier"));
  CHECK_THAT(testing::config_error_of("data: {dataset: /nonexistent}\n"
                      "agent: {algo: supervised, task: behaviour_cloning, loss: nll, optimizer: {dp: {noise_multiplier: 1}}}\n",
                      {}),
             Catch::Contains("agent.loss") && Catch::Contains("cannot clip per sample"));
  CHECK_THAT(testing::config_error_of(kPrivateTable, {"agent.optimizer.dp.epsilon=3"}), Catch::Contains("unknown key"));
}
