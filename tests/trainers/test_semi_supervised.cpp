// Semi-supervised learning (FixMatch for vectors) against supervised training on the same labels,
// the labelled share of a training split, exact resume and the config's rules.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "../test_files.h"
#include "moving_square_env.h"
#include "rlforge/data/recording.h"
#include "rlforge/envs/episode_player.h"
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


// The last row of a run's metrics.csv, by column name.
std::map<std::string, double> last_metrics(const fs::path& dir) {
  std::istringstream text(testing::read_text(dir / "metrics.csv"));
  std::string header, line, last;
  std::getline(text, header);
  while (std::getline(text, line)) last = line;
  std::map<std::string, double> values;
  std::istringstream names(header), cells(last);
  for (std::string name, cell; std::getline(names, name, ',') && std::getline(cells, cell, ',');) {
    values[name] = std::stod(cell);
  }
  return values;
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
  PseudoLabelRemedies off;
  const torch::Tensor rows = torch::arange(4);
  // Confident at |x| = 1 (softmax of 8 apart), not at |x| = 0.1 (0.8 apart).
  const torch::Tensor unlabeled = torch::tensor({{-1.0f}, {0.1f}, {1.0f}, {-0.1f}});
  const PseudoLabelStep step = pseudo_label_step(logits_of, logits_of, unlabeled, rows, config, same, g, off);
  CHECK(step.targets.equal(torch::tensor({0L, 1L, 1L, 0L})));
  CHECK(step.confident.equal(torch::tensor({1.0f, 0.0f, 1.0f, 0.0f})));
  // The strong copies agree with their pseudo-labels: the loss is the two confident rows'
  // cross-entropy, log(1 + e^-8) each, averaged over all four rows.
  CHECK(step.loss.item<double>() == Approx(2 * std::log1p(std::exp(-8.0)) / 4).epsilon(1e-4));
  // The student, not the teacher, gets the gradient: a student that disagrees pays for it.
  const OutputsOf flipped = [](const torch::Tensor& x) { return torch::cat({4 * x, -4 * x}, 1); };
  const PseudoLabelStep wrong = pseudo_label_step(flipped, logits_of, unlabeled, rows, config, same, g, off);
  CHECK(wrong.targets.equal(step.targets));
  CHECK(wrong.loss.item<double>() == Approx(2 * std::log1p(std::exp(8.0)) / 4));
  config.threshold = 1.0;  // nothing is that confident
  const PseudoLabelStep none = pseudo_label_step(logits_of, logits_of, unlabeled, rows, config, same, g, off);
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
  PseudoLabelRemedies off;
  const torch::Tensor rows = torch::arange(4);
  const torch::Tensor scale = torch::tensor({0.5f});  // the labelled actions' spread
  const PseudoLabelStep step = pseudo_label_step(student, teacher, unlabeled, rows, config, augmentation, g, off, scale);
  CHECK(step.confident.equal(torch::tensor({1.0f, 0.0f, 1.0f, 0.0f})));
  CHECK(step.targets.select(0, 0).item<double>() == Approx(2.0));
  CHECK(step.targets.select(0, 2).item<double>() == Approx(-4.0));
  // Squared errors of the student's strong copies (3x) against 2x on the agreeing rows, over 4.
  CHECK(step.loss.item<double>() == Approx((1.0 + 4.0) / 4));
  // A tolerance wide enough for every row.
  config.action_tolerance = 1e6;
  CHECK(pseudo_label_step(student, teacher, unlabeled, rows, config, augmentation, g, off, scale).confident.sum().item<double>() == 4);
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

TEST_CASE("flexible thresholds are lower for classes the model rarely labels with confidence", "[semi]") {
  FlexibleThresholds flexible(10, 3);
  // Nothing labelled with confidence yet: every threshold starts at 0 (the warm-up).
  CHECK(flexible.thresholds(0.95).equal(torch::zeros({3})));
  // Rows 4-6 last confident as class 0, rows 7-8 as 1, row 9 as 2; rows 0-3 never: the effects
  // (3, 2, 1) over max(3, 4 never) give beta (0.75, 0.5, 0.25), mapped by x / (2 - x).
  flexible.record(torch::arange(4, 10), torch::tensor({0L, 0L, 0L, 1L, 1L, 2L}), torch::ones({6}));
  const torch::Tensor t = flexible.thresholds(0.95);
  CHECK(t[0].item<double>() == Approx(0.95 * 0.6));
  CHECK(t[1].item<double>() == Approx(0.95 / 3));
  CHECK(t[2].item<double>() == Approx(0.95 / 7));
  // Rows that did not reach the threshold keep their last confident class.
  flexible.record(torch::tensor({4L, 0L}), torch::tensor({2L, 2L}), torch::tensor({0.0f, 1.0f}));
  CHECK(flexible.last_confident()[4].item<int64_t>() == 0);
  CHECK(flexible.last_confident()[0].item<int64_t>() == 2);
  // Every row confident, class 0 most often: class 0 keeps the full threshold.
  flexible.record(torch::arange(10), torch::tensor({0L, 0L, 0L, 0L, 0L, 1L, 1L, 1L, 2L, 2L}), torch::ones({10}));
  CHECK(flexible.thresholds(0.95)[0].item<double>() == Approx(0.95));
  CHECK(flexible.thresholds(0.95)[2].item<double>() == Approx(0.95 * 0.4 / 1.6));
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

  // With the remedies for confirmation bias, whose state the checkpoint carries too.
  const fs::path whole_r = testing::fresh_dir("semi-whole-remedies"), parts_r = testing::fresh_dir("semi-parts-remedies");
  const std::vector<std::string> keys{"agent.semi_supervised.teacher_ema=0.9", "agent.semi_supervised.distribution_alignment=true",
                                      "agent.semi_supervised.flexible_thresholds=true"};
  const auto run = [&](const fs::path& dir, RunControl control) {
    std::ostringstream progress;
    Trainer trainer(parse_config(table("semi_supervised", 4), "semi_test.yaml", keys), dir.string(), progress);
    trainer.run(control);
  };
  run(whole_r, {});
  run(parts_r, stop);
  run(parts_r, resume);
  CHECK(testing::read_text(parts_r / "metrics.csv") == testing::read_text(whole_r / "metrics.csv"));
  CHECK(testing::read_text(parts_r / "eval.csv") == testing::read_text(whole_r / "eval.csv"));
  // And they change the run.
  CHECK(testing::read_text(whole_r / "metrics.csv") != testing::read_text(whole / "metrics.csv"));
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
  // Frames' augmentations on a table, and a table's on frames, would do nothing.
  CHECK_THAT(testing::config_error_of(semi, {"agent.semi_supervised.strong_shift=6"}),
             Catch::Contains("agent.semi_supervised.strong_shift: applies to image frames; the inputs are a table"));
  CHECK_THAT(testing::config_error_of(semi, {"agent.semi_supervised.cutout=1.5"}), Catch::Contains("agent.semi_supervised.cutout"));
  CHECK_THAT(testing::config_error_of(semi, {"agent.semi_supervised.teacher_ema=1"}), Catch::Contains("agent.semi_supervised.teacher_ema"));
}

namespace {

// Records `steps` steps of `expert` on `env_id` into dir/name; returns the dataset's path.
std::string record(const std::string& env_id, const ActionChooser& expert, const fs::path& dir, int64_t steps) {
  VectorEnvConfig env;
  env.id = env_id;
  EpisodePlayer player(env);
  DatasetRecordingSettings settings;
  settings.min_steps = steps;
  settings.policy_description = "a scripted expert";
  record_dataset(player, expert, (dir / "expert").string(), settings);
  return (dir / "expert").string();
}

}  // namespace

TEST_CASE("semi-supervised cloning learns from frames with shifted and cut-out copies", "[supervised][semi]") {
  testing::register_moving_square();
  const fs::path root = testing::fresh_dir("semi-frames");
  // The expert moves the square towards the frame's centre along the axis it is further off on;
  // it reads the square's corner (the first bright pixel) off the frame.
  int64_t action = 0;
  const ActionChooser expert = [&action](const void* observation) {
    const auto* pixels = static_cast<const uint8_t*>(observation);
    int corner = 0;
    while (pixels[corner] != 220) ++corner;
    const int x = corner % 36 - 14, y = corner / 36 - 14;
    action = std::abs(x) >= std::abs(y) ? (x > 0 ? 2 : 3) : (y > 0 ? 0 : 1);
    return ActionRef::discrete(action);
  };
  const std::string dataset = record("MovingSquare-v0", expert, root, 3000);
  const auto config = [&](const std::string& algo, int64_t epochs, const std::string& semi_settings = "") {
    return "run: {seed: 3}\n"
           "data: {dataset: " + dataset + ", validation_fraction: 0.2, test_fraction: 0.2, labeled_fraction: 0.05}\n"
           "agent: {algo: " + algo + ", task: behaviour_cloning, batch_size: 16, optimizer: {learning_rate: 0.001},\n"
           "        policy: {actor: [64], critic: [64], cnn_features: 64}" + semi_settings + "}\n"
           "trainer: {epochs: " + std::to_string(epochs) + ", eval_episodes: 2, test_episodes: 0}\n";
  };
  const fs::path plain = root / "supervised", semi = root / "semi";
  fs::create_directories(plain);
  fs::create_directories(semi);
  const YAML::Node baseline = train(config("supervised", 40), plain);
  // The expert's action depends on where the square is in the frame, which a shift changes: the
  // copies differ by cutout alone (with shifts of 2 and 4 pixels the test accuracy fell to 0.63,
  // with a shift of 1 to 0.87). The remedies for confirmation bias are on.
  const YAML::Node fixmatch = train(config("semi_supervised", 20,
                                           ", semi_supervised: {weak_shift: 0, strong_shift: 0, flexible_thresholds: true,"
                                           " distribution_alignment: true}"),
                                    semi);
  INFO(testing::read_text(plain / "summary.yaml") << testing::read_text(semi / "summary.yaml")
                                                  << testing::read_text(semi / "metrics.csv"));
  const int64_t labeled = fixmatch["data"]["labeled"].as<int64_t>();
  CHECK(labeled == baseline["data"]["labeled"].as<int64_t>());
  CHECK(labeled < 100);
  const double supervised_accuracy = baseline["test"]["accuracy"].as<double>();
  const double semi_accuracy = fixmatch["test"]["accuracy"].as<double>();
  // Measured: 0.958 against 0.930 on 600 test frames.
  CHECK(semi_accuracy >= supervised_accuracy + 0.015);
  const std::map<std::string, double> last = last_metrics(semi);
  CHECK(last.at("pseudo_label_fraction") > 0.3);
  CHECK(last.at("pseudo_label_accuracy") > 0.8);
  fs::remove_all(root);
}

TEST_CASE("semi-supervised cloning of Box actions learns from agreeing pseudo-targets", "[supervised][semi]") {
  const fs::path root = testing::fresh_dir("semi-box");
  // Pendulum's torque from a clipped linear controller of its angle and angular velocity.
  std::vector<float> torque(1);
  const ActionChooser expert = [&torque](const void* observation) {
    const auto* o = static_cast<const float*>(observation);
    torque[0] = std::clamp(-4.0f * o[1] - 0.8f * o[2], -2.0f, 2.0f);
    return ActionRef::box(torque);
  };
  const std::string dataset = record("Pendulum-v1", expert, root, 4000);
  const auto config = [&](const std::string& algo, int64_t epochs) {
    return "run: {seed: 2}\n"
           "data: {dataset: " + dataset + ", validation_fraction: 0.2, test_fraction: 0.2, labeled_fraction: 0.02}\n"
           "agent: {algo: " + algo + ", task: behaviour_cloning, batch_size: 16, optimizer: {learning_rate: 0.003},\n"
           "        policy: {actor: [64, 64], critic: [16]}}\n"
           "trainer: {epochs: " + std::to_string(epochs) + ", eval_episodes: 2, test_episodes: 0}\n";
  };
  const fs::path plain = root / "supervised", semi = root / "semi";
  fs::create_directories(plain);
  fs::create_directories(semi);
  const YAML::Node baseline = train(config("supervised", 150), plain);
  const YAML::Node fixmatch = train(config("semi_supervised", 15), semi);
  INFO(testing::read_text(plain / "summary.yaml") << testing::read_text(semi / "summary.yaml")
                                                  << testing::read_text(semi / "metrics.csv"));
  // Measured: test MSE 0.0044 against supervised 0.0045 (R^2 0.95 here). With 12 labels instead
  // of 48, semi-supervised's 0.064 was 4 times the error of supervised training given enough epochs
  // (600: 0.016): regression pseudo-targets are no general win (docs/privacy.md).
  CHECK(fixmatch["test"]["r2"].as<double>() >= 0.9);
  CHECK(fixmatch["test"]["mse"].as<double>() <= 1.5 * baseline["test"]["mse"].as<double>());
  // Pseudo-targets: the rows whose two weak copies agree, close to the expert's hidden torques.
  const std::map<std::string, double> last = last_metrics(semi);
  CHECK(last.count("pseudo_label_accuracy") == 0);
  CHECK(last.at("pseudo_label_fraction") > 0.2);
  CHECK(last.at("pseudo_label_error") < 0.3);
  // Class-only remedies are refused for Box actions.
  CHECK_THAT(testing::config_error_of(config("semi_supervised", 1), {"agent.semi_supervised.flexible_thresholds=true"}),
             Catch::Contains("agent.semi_supervised.flexible_thresholds: sets a threshold per class"));
  CHECK_THAT(testing::config_error_of(config("semi_supervised", 1), {"agent.semi_supervised.weak_shift=3"}),
             Catch::Contains("applies to image frames"));
  fs::remove_all(root);
}
