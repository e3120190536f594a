// Semi-supervised learning (FixMatch for vectors) against supervised training on the same labels,
// the labelled share of a training split, exact resume and the config's rules.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <sstream>

#include "../test_files.h"
#include "config_error.h"
#include "rlforge/trainers/semi_supervised.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

// Three well separated classes in a 2-feature subspace of 8 features (semi-supervised learning
// needs clusters: at separation 1.5 the classes overlap and it gains nothing); 1,050 training
// rows, of which 3% (32) keep their labels.
std::string table(const std::string& algo, int64_t epochs) {
  return "run: {seed: 4}\n"
         "data: {generate: classification, rows: 1500, features: 8, classes: 3, class_separation: 2.5,"
         " labeled_fraction: 0.03}\n"
         "agent:\n"
         "  algo: " + algo + "\n"
         "  task: classification\n"
         "  batch_size: 32\n"
         "  optimizer: {name: adam, learning_rate: 0.003}\n"
         "  network: {hidden: [32, 32]}\n"
         "trainer: {epochs: " + std::to_string(epochs) + "}\n";
}

// The run's summary.yaml (undefined for a stopped run, which has none).
YAML::Node train(const std::string& yaml, const fs::path& dir, RunControl control = {}) {
  std::ostringstream progress;
  Trainer trainer(parse_config(yaml, "semi_test.yaml", {}), dir.string(), progress);
  trainer.run(control);
  return fs::exists(dir / "summary.yaml") ? YAML::LoadFile((dir / "summary.yaml").string()) : YAML::Node();
}


}  // namespace

TEST_CASE("vector augmentations scale with each feature's spread and mask to its mean", "[semi]") {
  const VectorAugmenter augment(torch::tensor({1.0f, -2.0f}), torch::tensor({0.5f, 3.0f}));
  torch::Generator g = at::detail::createCPUGenerator(5);
  const torch::Tensor x = torch::zeros({20000, 2});
  const torch::Tensor noisy = augment(x, 0.2, 0, g);
  CHECK(noisy.std(0)[0].item<double>() == Approx(0.1).epsilon(0.03));
  CHECK(noisy.std(0)[1].item<double>() == Approx(0.6).epsilon(0.03));
  // Masking alone: a share of the entries becomes the feature's mean, the rest stay.
  const torch::Tensor masked = augment(x, 0, 0.25, g);
  const double replaced = masked.ne(0).to(torch::kFloat64).mean().item<double>();
  CHECK(replaced == Approx(0.25).epsilon(0.03));
  CHECK(masked.select(1, 1).masked_select(masked.select(1, 1).ne(0)).eq(-2.0f).all().item<bool>());
}

TEST_CASE("a FixMatch step pseudo-labels only the confident unlabelled rows", "[semi]") {
  // A fixed linear model: class 1 when x > 0, confident far from 0.
  const auto logits_of = [](const torch::Tensor& x) { return torch::cat({-4 * x, 4 * x}, 1); };
  const VectorAugmenter augment(torch::zeros({1}), torch::ones({1}));
  SemiSupervisedConfig config;
  config.weak_noise = 0;
  config.strong_noise = 0;
  config.threshold = 0.95;
  torch::Generator g = at::detail::createCPUGenerator(1);
  const torch::Tensor labeled = torch::tensor({{-1.0f}, {1.0f}}), labels = torch::tensor({0L, 1L});
  // Confident at |x| = 1 (softmax of 8 apart), not at |x| = 0.1 (0.8 apart).
  const torch::Tensor unlabeled = torch::tensor({{-1.0f}, {0.1f}, {1.0f}, {-0.1f}});
  const FixMatchStep step = fixmatch_step(logits_of, labeled, labels, unlabeled, config, augment, g);
  CHECK(step.pseudo_labels.equal(torch::tensor({0L, 1L, 1L, 0L})));
  CHECK(step.confident.equal(torch::tensor({1.0f, 0.0f, 1.0f, 0.0f})));
  // Without noise the strong copies agree with their pseudo-labels: the unlabelled loss is the
  // confident rows' cross-entropy, as the labelled one is.
  CHECK(step.loss.item<double>() == Approx(step.supervised_loss.item<double>() * (1 + 2.0 / 4)));
  config.threshold = 1.0;  // nothing is that confident
  const FixMatchStep none = fixmatch_step(logits_of, labeled, labels, unlabeled, config, augment, g);
  CHECK(none.confident.sum().item<double>() == 0);
  CHECK(none.loss.item<double>() == Approx(none.supervised_loss.item<double>()));
}

TEST_CASE("semi-supervised learning beats supervised training on the same few labels", "[supervised][semi]") {
  const fs::path plain = testing::fresh_dir("semi-plain"), semi = testing::fresh_dir("semi-fixmatch");
  // Supervised on its 32 labelled rows: an epoch is one step, so it gets many more epochs.
  const YAML::Node baseline = train(table("supervised", 300), plain);
  const YAML::Node fixmatch = train(table("semi_supervised", 30), semi);
  INFO(testing::read_text(plain / "summary.yaml") << testing::read_text(semi / "summary.yaml"));
  CHECK(baseline["data"]["labeled"].as<int64_t>() == 32);
  CHECK(baseline["data"]["unlabeled"].as<int64_t>() == 1050 - 32);
  CHECK_FALSE(baseline["data"]["unlabeled_used"].as<bool>());
  CHECK(fixmatch["data"]["labeled"].as<int64_t>() == 32);
  CHECK(fixmatch["data"]["unlabeled_used"].as<bool>());
  const double supervised_accuracy = baseline["test"]["accuracy"].as<double>();
  const double semi_accuracy = fixmatch["test"]["accuracy"].as<double>();
  // Measured: 0.924 against 0.796.
  CHECK(semi_accuracy >= supervised_accuracy + 0.05);
  // Pseudo-labels: a share of the unlabelled rows each epoch, mostly right (measured against the
  // hidden labels, which training never sees).
  const std::string metrics = testing::read_text(semi / "metrics.csv");
  CHECK_THAT(metrics, Catch::StartsWith("epoch,train_loss,train_accuracy,learning_rate,pseudo_label_fraction,pseudo_label_accuracy\n"));
  const std::string last = metrics.substr(metrics.rfind('\n', metrics.size() - 2) + 1);
  std::vector<double> cells;
  std::istringstream row(last);
  for (std::string cell; std::getline(row, cell, ',');) cells.push_back(std::stod(cell));
  REQUIRE(cells.size() == 6);
  CHECK(cells[4] > 0.3);
  CHECK(cells[4] <= 1.0);
  CHECK(cells[5] > 0.8);
}

TEST_CASE("a semi-supervised run stopped and resumed ends like an uninterrupted one", "[supervised][semi]") {
  const fs::path whole = testing::fresh_dir("semi-whole"), parts = testing::fresh_dir("semi-parts");
  train(table("semi_supervised", 4), whole);
  RunControl stop;
  stop.stop_after_steps = 2;
  train(table("semi_supervised", 4), parts, stop);
  RunControl resume;
  resume.resume = true;
  train(table("semi_supervised", 4), parts, resume);
  CHECK(testing::read_text(parts / "metrics.csv") == testing::read_text(whole / "metrics.csv"));
  CHECK(testing::read_text(parts / "eval.csv") == testing::read_text(whole / "eval.csv"));
}

TEST_CASE("semi-supervised settings are checked before anything runs", "[supervised][semi][config]") {
  const std::string semi = table("semi_supervised", 3);
  CHECK_THAT(testing::config_error_of(semi, {"data.labeled_fraction=1"}), Catch::Contains("data.labeled_fraction") && Catch::Contains("below 1"));
  CHECK_THAT(testing::config_error_of(semi, {"data.labeled_fraction=0"}), Catch::Contains("data.labeled_fraction"));
  CHECK_THAT(testing::config_error_of(semi, {"agent.task=regression"}), Catch::Contains("agent.task"));
  CHECK_THAT(testing::config_error_of(semi, {"agent.semi_supervised.threshold=1.5"}), Catch::Contains("agent.semi_supervised.threshold"));
  // Keys of the other algorithm are unknown to this one.
  CHECK_THAT(testing::config_error_of(semi, {"agent.optimizer.dp.noise_multiplier=1"}), Catch::Contains("unknown key 'agent.optimizer.dp'"));
  CHECK_THAT(testing::config_error_of(table("supervised", 3), {"agent.semi_supervised.threshold=0.9"}),
             Catch::Contains("unknown key 'agent.semi_supervised'"));
}
