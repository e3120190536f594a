// Semi-supervised learning (FixMatch for vectors) against supervised training on the same labels,
// the labelled share of a training split, exact resume and the config's rules.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <sstream>

#include "../test_files.h"
#include "config_error.h"
#include "rlforge/envs/space.h"
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
  const OutputsOf logits_of = [](const torch::Tensor& x) { return torch::cat({-4 * x, 4 * x}, 1); };
  const Augmentation same{[](const torch::Tensor& x, torch::Generator&) { return x; },
                          [](const torch::Tensor& x, torch::Generator&) { return x; }};
  SemiSupervisedConfig config;
  config.threshold = 0.95;
  torch::Generator g = at::detail::createCPUGenerator(1);
  DistributionAlignment off;
  // Confident at |x| = 1 (softmax of 8 apart), not at |x| = 0.1 (0.8 apart).
  const torch::Tensor unlabeled = torch::tensor({{-1.0f}, {0.1f}, {1.0f}, {-0.1f}});
  const PseudoLabelStep step = pseudo_label_step(logits_of, logits_of, unlabeled, config, same, g, off);
  CHECK(step.targets.equal(torch::tensor({0L, 1L, 1L, 0L})));
  CHECK(step.confident.equal(torch::tensor({1.0f, 0.0f, 1.0f, 0.0f})));
  // The strong copies agree with their pseudo-labels: the loss is the two confident rows'
  // cross-entropy, log(1 + e^-8) each, averaged over all four rows.
  CHECK(step.loss.item<double>() == Approx(2 * std::log1p(std::exp(-8.0)) / 4).epsilon(1e-4));
  // The student, not the teacher, gets the gradient: a student that disagrees pays for it.
  const OutputsOf flipped = [](const torch::Tensor& x) { return torch::cat({4 * x, -4 * x}, 1); };
  const PseudoLabelStep wrong = pseudo_label_step(flipped, logits_of, unlabeled, config, same, g, off);
  CHECK(wrong.targets.equal(step.targets));
  CHECK(wrong.loss.item<double>() == Approx(2 * std::log1p(std::exp(8.0)) / 4));
  config.threshold = 1.0;  // nothing is that confident
  const PseudoLabelStep none = pseudo_label_step(logits_of, logits_of, unlabeled, config, same, g, off);
  CHECK(none.confident.sum().item<double>() == 0);
  CHECK(none.loss.item<double>() == 0);
}

TEST_CASE("Box actions take the teacher's mean where two weak copies agree", "[semi]") {
  // Weak copies add noise in proportion to the second column: rows 0 and 2 come out the same
  // twice, rows 1 and 3 do not. The model outputs 2x for the first column as its one action.
  const Augmentation augmentation{
      [](const torch::Tensor& x, torch::Generator& g) {
        return x + torch::randn(x.sizes(), g) * x.select(1, 1).unsqueeze(1);
      },
      [](const torch::Tensor& x, torch::Generator&) { return x; }};
  const OutputsOf teacher = [](const torch::Tensor& x) { return 2 * x.narrow(1, 0, 1); };
  const OutputsOf student = [](const torch::Tensor& x) { return 3 * x.narrow(1, 0, 1); };
  const torch::Tensor unlabeled = torch::tensor({{1.0f, 0.0f}, {1.0f, 1.0f}, {-2.0f, 0.0f}, {0.5f, 3.0f}});
  SemiSupervisedConfig config;
  config.action_tolerance = 0.1;
  torch::Generator g = at::detail::createCPUGenerator(3);
  DistributionAlignment off;
  const torch::Tensor scale = torch::tensor({0.5f});  // the labelled actions' spread
  const PseudoLabelStep step = pseudo_label_step(student, teacher, unlabeled, config, augmentation, g, off, scale);
  CHECK(step.confident.equal(torch::tensor({1.0f, 0.0f, 1.0f, 0.0f})));
  CHECK(step.targets.select(0, 0).item<double>() == Approx(2.0));
  CHECK(step.targets.select(0, 2).item<double>() == Approx(-4.0));
  // Squared errors of the student's strong copies (3x) against 2x on the agreeing rows, over 4.
  CHECK(step.loss.item<double>() == Approx((1.0 + 4.0) / 4));
  // A tolerance wide enough for every row.
  config.action_tolerance = 1e6;
  CHECK(pseudo_label_step(student, teacher, unlabeled, config, augmentation, g, off, scale).confident.sum().item<double>() == 4);
}

TEST_CASE("distribution alignment moves pseudo-labels towards the labelled class shares", "[semi]") {
  // Labelled rows are half class 0; the model predicts class 1 for most unlabelled rows.
  DistributionAlignment alignment(torch::tensor({0.5f, 0.5f}), 0.5);
  const torch::Tensor p = torch::tensor({{0.2f, 0.8f}, {0.4f, 0.6f}});
  const torch::Tensor aligned = alignment.align(p);
  // The running mean takes in the batch's mean (0.3, 0.7) at momentum 0.5: (0.4, 0.6).
  CHECK(alignment.running_mean()[0].item<double>() == Approx(0.4));
  CHECK(alignment.running_mean()[1].item<double>() == Approx(0.6));
  // Each row times 0.5 / (0.4, 0.6), renormalised: row 1 (0.4, 0.6) becomes (0.5, 0.5).
  CHECK(aligned[1][0].item<double>() == Approx(0.5));
  CHECK(aligned[0][0].item<double>() == Approx(0.2 / 0.4 / (0.2 / 0.4 + 0.8 / 0.6)));
  CHECK(aligned.sum(1).allclose(torch::ones({2})));
}

TEST_CASE("the mean teacher averages the weights and lends them without keeping them", "[semi]") {
  torch::Tensor w = torch::tensor({1.0f, 2.0f}).requires_grad_();
  EmaTeacher teacher({w}, 0.9);
  {
    torch::NoGradGuard no_grad;
    w.copy_(torch::tensor({3.0f, 2.0f}));  // an optimiser step
  }
  teacher.update();
  // 0.9 * (1, 2) + 0.1 * (3, 2) = (1.2, 2).
  const torch::Tensor seen = teacher.with_average([&] { return w * 1; });
  CHECK(seen.allclose(torch::tensor({1.2f, 2.0f})));
  CHECK(w.equal(torch::tensor({3.0f, 2.0f})));  // the student's weights are back
  EmaTeacher restored({torch::zeros({2})}, 0.9);
  restored.set_state(teacher.state());
  CHECK(restored.state().equal(teacher.state()));
  CHECK_THROWS_WITH(restored.set_state(torch::zeros({3})), Catch::Contains("does not match"));
  CHECK_THROWS(EmaTeacher({w}, 1.0));
}

TEST_CASE("cutout blanks one square per frame across its channels", "[semi]") {
  // Stacked frames [B, k, H, W, C]: 2 frames of 16x16 with 3 channels.
  const ImageLayout layout = *image_layout(Space::box({2, 16, 16, 3}, 0.0f, 255.0f, DType::UInt8));
  const torch::Tensor frames = torch::full({64, 2, 16, 16, 3}, 200, torch::kUInt8);
  torch::Generator g = at::detail::createCPUGenerator(2);
  const torch::Tensor cut = cutout(frames, layout, 0.25, 127, g);
  CHECK(cut.sizes() == frames.sizes());
  CHECK(cut.scalar_type() == torch::kUInt8);
  const torch::Tensor blank = cut.eq(127);
  // Every channel and stacked frame of a pixel is blanked together.
  CHECK(blank.all(4).eq(blank.any(4)).all().item<bool>());
  CHECK(blank.select(1, 0).equal(blank.select(1, 1)));
  // A 4x4 square at most, less where it crosses the edge; never more, and some whole ones.
  const torch::Tensor per_frame = blank.select(1, 0).select(3, 0).flatten(1).sum(1);
  CHECK(per_frame.max().item<int64_t>() == 16);
  CHECK(per_frame.min().item<int64_t>() >= 4);
  CHECK(cut.masked_select(blank.logical_not()).eq(200).all().item<bool>());
  CHECK(cutout(frames, layout, 0, 127, g).equal(frames));
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
