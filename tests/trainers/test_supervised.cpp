// Supervised learning on the shared Trainer: tables (generated), behaviour cloning from recorded
// episodes, best-model selection, early stopping, exact resume and config errors.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>
#include <utility>

#include "../test_files.h"
#include "moving_square_env.h"
#include "rlforge/data/recording.h"
#include "rlforge/envs/env.h"
#include "rlforge/envs/episode_player.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/seeds.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

const char* kTable =
    "run: {seed: 3}\n"
    "data: {generate: classification, rows: 1500, features: 8, classes: 3, class_separation: 1.5}\n"
    "agent:\n"
    "  algo: supervised\n"
    "  task: classification\n"
    "  batch_size: 64\n"
    "  optimizer: {name: adam, learning_rate: 0.003}\n"
    "  network: {hidden: [32, 32], dropout: 0.1}\n"
    "trainer: {epochs: 12}\n";

TrainResult train(const std::string& yaml, const fs::path& dir, const std::vector<std::string>& overrides = {},
                  RunControl control = {}) {
  std::ostringstream progress;
  Trainer trainer(parse_config(yaml, "supervised_test.yaml", overrides), dir.string(), progress);
  return trainer.run(control);
}

// One tensor of a checkpoint's model, by its parameter name ("actor.0.weight").
torch::Tensor model_tensor(const fs::path& checkpoint, const std::string& name) {
  torch::serialize::InputArchive root, archive;
  root.load_from(checkpoint.string());
  root.read("model", archive);
  std::string rest = name;
  for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
    torch::serialize::InputArchive child;
    archive.read(rest.substr(0, dot), child);
    archive = std::move(child);
    rest = rest.substr(dot + 1);
  }
  torch::Tensor t;
  archive.read(rest, t);
  return t;
}

int64_t data_rows(const fs::path& csv) {
  const std::string text = testing::read_text(csv);
  return static_cast<int64_t>(std::count(text.begin(), text.end(), '\n')) - 1;
}

}  // namespace

TEST_CASE("a small classification run reaches its target accuracy", "[supervised]") {
  const fs::path dir = testing::fresh_dir("supervised-table");
  const TrainResult r = train(kTable, dir);
  CHECK(r.env_steps == 12);
  const YAML::Node summary = YAML::LoadFile((dir / "summary.yaml").string());
  INFO(testing::read_text(dir / "summary.yaml"));
  // Three Gaussian clusters 3 standard deviations apart in their subspace: the Bayes accuracy is
  // about 0.93; chance is 1/3.
  CHECK(summary["test"]["accuracy"].as<double>() >= 0.85);
  CHECK(summary["test"]["f1_macro"].as<double>() >= 0.85);
  CHECK(summary["test"]["roc_auc"].as<double>() >= 0.95);
  CHECK(summary["data"]["test"].as<int64_t>() == 225);
  CHECK(summary["data"]["validation"].as<int64_t>() == 225);
  CHECK(summary["data"]["train"].as<int64_t>() == 1050);
  CHECK(summary["test"]["confusion"].size() == 3);
  CHECK(summary["select_metric"].as<std::string>() == "loss");
  // One row per epoch in metrics.csv, one evaluation per epoch in eval.csv; the curve is drawn.
  CHECK(data_rows(dir / "metrics.csv") == 12);
  CHECK(data_rows(dir / "eval.csv") == 12);
  CHECK(testing::read_text(dir / "metrics.csv").rfind("epoch,train_loss,train_accuracy,learning_rate\n", 0) == 0);
  CHECK(fs::exists(dir / "curve.png"));
  CHECK(fs::exists(dir / "checkpoints" / "best.pt"));
  // A table run's model card: its epochs and its test split's figures, with no env.
  const std::string card = testing::read_text(dir / "MODEL_CARD.md");
  CHECK_THAT(card, Catch::Contains("- Trained for 12 epochs") && Catch::Contains("Held-out test split:") &&
                       Catch::Contains("accuracy: " + summary["test"]["accuracy"].as<std::string>()));
}

TEST_CASE("regression on a generated table fits its linear target", "[supervised]") {
  const fs::path dir = testing::fresh_dir("supervised-regression");
  train(
      "run: {seed: 4}\n"
      "data: {generate: regression, rows: 1200, features: 5, noise: 0.1}\n"
      "agent: {algo: supervised, task: regression, optimizer: {name: adamw, learning_rate: 0.003, weight_decay: 0.0001}}\n"
      "trainer: {epochs: 25}\n",
      dir);
  const YAML::Node summary = YAML::LoadFile((dir / "summary.yaml").string());
  INFO(testing::read_text(dir / "summary.yaml"));
  CHECK(summary["test"]["r2"].as<double>() >= 0.95);
  CHECK(summary["test"]["mse"].as<double>() == Approx(summary["test"]["loss"].as<double>()).epsilon(1e-4));
}

TEST_CASE("early stopping ends a run whose validation loss stopped improving", "[supervised]") {
  const fs::path dir = testing::fresh_dir("supervised-early");
  // A learning rate this small leaves the validation loss where it was (to far below min_delta),
  // so the first evaluation stays the best and three more end the run.
  const TrainResult r = train(kTable, dir,
                              {"agent.optimizer.learning_rate=1e-12", "trainer.epochs=50",
                               "trainer.early_stopping={patience: 3, min_delta: 0.001}"});
  CHECK(r.early_stopped);
  CHECK_FALSE(r.stopped);
  CHECK(r.env_steps == 4);
  const YAML::Node summary = YAML::LoadFile((dir / "summary.yaml").string());
  CHECK(summary["early_stopped"].as<bool>());
  CHECK(summary["best_eval"]["epoch"].as<int64_t>() == 1);
  CHECK(data_rows(dir / "metrics.csv") == 4);

  // With a real learning rate the same patience does not stop it.
  const fs::path learning = testing::fresh_dir("supervised-early-learning");
  CHECK_FALSE(train(kTable, learning, {"trainer.early_stopping={patience: 3, min_delta: 0.001}"}).early_stopped);
}

TEST_CASE("a supervised run stopped and resumed ends like an uninterrupted one", "[supervised]") {
  const fs::path whole = testing::fresh_dir("supervised-whole"), parts = testing::fresh_dir("supervised-parts");
  const std::vector<std::string> shorter{"trainer.epochs=6"};
  train(kTable, whole, shorter);
  RunControl stop;
  stop.stop_after_steps = 3;
  CHECK(train(kTable, parts, shorter, stop).stopped);
  RunControl resume;
  resume.resume = true;
  CHECK_FALSE(train(kTable, parts, shorter, resume).stopped);
  // Dropout and shuffling continue from the saved generators: the same numbers to the last bit.
  CHECK(testing::read_text(parts / "metrics.csv") == testing::read_text(whole / "metrics.csv"));
  CHECK(testing::read_text(parts / "eval.csv") == testing::read_text(whole / "eval.csv"));
  for (const char* name : {"body.0.weight", "body.3.bias", "head.weight", "input_mean"}) {
    CHECK(model_tensor(parts / "checkpoints" / "last.pt", name).equal(model_tensor(whole / "checkpoints" / "last.pt", name)));
  }
}

TEST_CASE("k-fold cross-validation validates on the chosen fold", "[supervised]") {
  const fs::path a = testing::fresh_dir("supervised-fold0"), b = testing::fresh_dir("supervised-fold1");
  train(kTable, a, {"data.k_folds=5", "data.fold=0", "trainer.epochs=2"});
  train(kTable, b, {"data.k_folds=5", "data.fold=1", "trainer.epochs=2"});
  const YAML::Node sa = YAML::LoadFile((a / "summary.yaml").string());
  CHECK(sa["data"]["validation"].as<int64_t>() == 300);
  CHECK(sa["data"]["train"].as<int64_t>() == 1200);
  CHECK(sa["data"]["test"].as<int64_t>() == 0);
  CHECK_FALSE(sa["test"].IsDefined());
  // Another fold validates on other rows: other numbers.
  CHECK(testing::read_text(a / "eval.csv") != testing::read_text(b / "eval.csv"));
}

TEST_CASE("behaviour cloning of a CartPole controller balances the pole", "[supervised]") {
  const fs::path root = testing::fresh_dir("supervised-bc");
  // A hand-made expert: push the cart the way the pole falls (angle plus angular velocity).
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  EpisodePlayer player(env);
  int64_t action = 0;
  const ActionChooser expert = [&action](const void* observation) {
    const auto* o = static_cast<const float*>(observation);
    action = o[2] + 0.5f * o[3] > 0 ? 1 : 0;
    return ActionRef::discrete(action);
  };
  DatasetRecordingSettings settings;
  // Whole 500-step episodes, one in ten held out for the test split. Measured over recording
  // seeds 0-4: with 6,000 steps (one test episode) the test accuracy ranged 0.76-0.90, with
  // 12,000 (two) 0.84-0.92.
  settings.min_steps = 12000;
  settings.policy_description = "angle controller";
  const DatasetRecordingResult recorded = record_dataset(player, expert, (root / "expert").string(), settings);
  REQUIRE(recorded.returns.mean >= 400);

  const std::string config =
      "run: {seed: 2}\n"
      "data: {dataset: " + (root / "expert").string() + ", validation_fraction: 0.2, test_fraction: 0.1}\n"
      "agent: {algo: supervised, task: behaviour_cloning, batch_size: 64, optimizer: {learning_rate: 0.003}}\n"
      "trainer: {epochs: 6, eval_episodes: 4, select_metric: mean_return}\n";
  const fs::path dir = root / "run";
  fs::create_directories(dir);
  const TrainResult r = train(config, dir);
  INFO(testing::read_text(dir / "eval.csv"));
  // The env came from the dataset, and the cloned policy balances as its expert does.
  CHECK(testing::read_text(dir / "config.yaml").find("CartPole-v1") != std::string::npos);
  CHECK(r.best_eval->mean_return >= 400);
  const YAML::Node summary = YAML::LoadFile((dir / "summary.yaml").string());
  CHECK(summary["test"]["accuracy"].as<double>() >= 0.8);
  CHECK(summary["select_metric"].as<std::string>() == "mean_return");
  // best.pt on held-out env seeds (20 episodes by default), apart from the validation seeds.
  CHECK(summary["test"]["held_out"]["first_seed"].as<uint64_t>() == seeds::test(2));
  CHECK(summary["test"]["held_out"]["episodes"].as<int64_t>() == 20);
  CHECK(summary["test"]["held_out"]["mean_return"].as<double>() >= 400);

  // Cloning with DP-SGD: each recorded step is a record; the actor alone is trained (the critic
  // is untouched), and the clone still balances.
  const fs::path private_dir = root / "private";
  fs::create_directories(private_dir);
  // Noise needs larger batches and steps than plain cloning (measured: 444 with these, 93 with
  // the plain run's batch 64 and learning rate 0.003).
  train(config, private_dir,
        {"agent.optimizer.dp.noise_multiplier=1.0", "agent.batch_size=256", "agent.optimizer.learning_rate=0.03",
         "trainer.epochs=10"});
  const YAML::Node private_summary = YAML::LoadFile((private_dir / "summary.yaml").string());
  INFO(testing::read_text(private_dir / "summary.yaml"));
  CHECK_THAT(private_summary["privacy"]["protects"].as<std::string>(), Catch::Contains("each recorded step"));
  CHECK(private_summary["privacy"]["epsilon"].as<double>() > 0);
  CHECK(private_summary["test"]["held_out"]["mean_return"].as<double>() >= 300);
  CHECK(model_tensor(private_dir / "checkpoints" / "last.pt", "critic.0.weight")
            .equal(model_tensor(dir / "checkpoints" / "last.pt", "critic.0.weight")));

  // PPO starts from the cloned policy with its actor frozen: the actor stays as cloned, the
  // critic learns, and the first evaluation already balances.
  const fs::path ppo_dir = root / "ppo";
  fs::create_directories(ppo_dir);
  const std::string ppo_config =
      "run: {seed: 2}\n"
      "env: {id: CartPole-v1, num_envs: 4}\n"
      "agent: {n_steps: 128, batch_size: 128, n_epochs: 2, init_from: " + dir.string() + ", freeze: [actor]}\n"
      "trainer: {total_steps: 2048, eval_every: 512, eval_episodes: 4}\n";
  const TrainResult tuned = train(ppo_config, ppo_dir);
  CHECK(tuned.final_eval.mean_return >= 400);
  const fs::path cloned = dir / "checkpoints" / "best.pt", after = ppo_dir / "checkpoints" / "last.pt";
  for (const char* name : {"actor.0.weight", "actor.2.bias", "actor.4.weight"}) {
    CHECK(model_tensor(after, name).equal(model_tensor(cloned, name)));
  }
  CHECK_FALSE(model_tensor(after, "critic.0.weight").equal(model_tensor(cloned, "critic.0.weight")));

  // Layers that do not fit are refused, naming the layer and both shapes.
  try {
    train(ppo_config, root / "ppo-bad", {"agent.policy.actor=[32]", "agent.freeze=[]"});
    FAIL("a checkpoint with other layer sizes was accepted");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("actor.0.weight") && Catch::Contains("[64, 4]") && Catch::Contains("[32, 4]"));
  }
  try {
    train(ppo_config, root / "ppo-bad", {"agent.freeze=[actr]"});
    FAIL("freezing a layer that does not exist was accepted");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("'actr' names no parameter"));
  }
}

TEST_CASE("configs that learn from data are checked before anything runs", "[supervised][config]") {
  auto error_of = [](const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    try {
      parse_config(yaml, "bad.yaml", overrides);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of(kTable, {"trainer.total_steps=100"}), Catch::Contains("use trainer.epochs"));
  CHECK_THAT(error_of(kTable, {"agent.optimizer.name=lbfgs"}), Catch::Contains("agent.optimizer.name"));
  CHECK_THAT(error_of(kTable, {"agent.optimizer.nesterov=true"}), Catch::Contains("momentum > 0"));
  CHECK_THAT(error_of(kTable, {"agent.task=behaviour_cloning"}), Catch::Contains("data.dataset"));
  CHECK_THAT(error_of(kTable, {"data.csv=x.csv"}), Catch::Contains("exactly one data source"));
  CHECK_THAT(error_of(kTable, {"agent.loss=mse"}), Catch::Contains("cross_entropy"));
  CHECK_THAT(error_of(kTable, {"data.k_folds=3", "data.fold=3"}), Catch::Contains("data.fold"));
  CHECK_THAT(error_of("data: {dataset: /nonexistent/dataset}\nagent: {algo: supervised, task: behaviour_cloning}\n"),
             Catch::Contains("data.dataset") && Catch::Contains("/nonexistent/dataset"));
  CHECK_THAT(error_of("env: {id: CartPole-v1}\ndata: {generate: classification}\n"),
             Catch::Contains("only runs that learn from data"));
}

TEST_CASE("self-supervised pretext tasks learn from recorded episodes", "[supervised][ssl]") {
  const fs::path root = testing::fresh_dir("supervised-ssl");
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  EpisodePlayer player(env);
  DatasetRecordingSettings settings;
  settings.min_steps = 4000;
  settings.policy_description = "random actions";
  record_dataset(player, random_actions(player.spec().action_space, 7), (root / "random").string(), settings);
  auto config = [&](const std::string& task) {
    return "run: {seed: 1}\n"
           "data: {dataset: " + (root / "random").string() + "}\n"
           "agent: {algo: self_supervised, task: " + task + ", batch_size: 64, optimizer: {learning_rate: 0.003},\n"
           "        network: {hidden: [64, 64], activation: tanh}}\n"
           "trainer: {epochs: 10}\n";
  };
  auto test_scores = [&](const std::string& task) {
    const fs::path dir = root / task;
    fs::create_directories(dir);
    train(config(task), dir);
    return YAML::LoadFile((dir / "summary.yaml").string())["test"];
  };
  // CartPole's next state is a smooth function of the state and the push.
  CHECK(test_scores("forward_dynamics")["r2"].as<double>() >= 0.9);
  // The push shows in the change of both velocities: the action is read off a pair of states.
  CHECK(test_scores("inverse_dynamics")["accuracy"].as<double>() >= 0.95);
  CHECK(test_scores("denoising")["r2"].as<double>() >= 0.8);
  // With a quarter of the entries hidden, the rest still says much about them.
  CHECK(test_scores("masked_reconstruction")["r2"].as<double>() >= 0.5);

  // PPO's actor starts from the encoder: same layer layout, so the weights arrive as trained.
  const fs::path ppo_dir = root / "ppo";
  fs::create_directories(ppo_dir);
  train("run: {seed: 1}\n"
        "env: {id: CartPole-v1, num_envs: 2}\n"
        "agent: {n_steps: 64, batch_size: 64, n_epochs: 1, init_from: " + (root / "forward_dynamics").string() + ",\n"
        "        init_layers: [actor.0=encoder.0, actor.2=encoder.2], freeze: [actor.0, actor.2]}\n"
        "trainer: {total_steps: 256, eval_every: 0, eval_episodes: 1}\n",
        ppo_dir);
  const fs::path encoder = root / "forward_dynamics" / "checkpoints" / "best.pt";
  CHECK(model_tensor(ppo_dir / "checkpoints" / "last.pt", "actor.0.weight").equal(model_tensor(encoder, "encoder.0.weight")));
  CHECK(model_tensor(ppo_dir / "checkpoints" / "last.pt", "actor.2.bias").equal(model_tensor(encoder, "encoder.2.bias")));
}

TEST_CASE("frames learn inverse dynamics with random-shift augmentation", "[supervised][ssl]") {
  testing::register_moving_square();
  const fs::path root = testing::fresh_dir("supervised-frames");
  VectorEnvConfig env;
  env.id = "MovingSquare-v0";
  EpisodePlayer player(env);
  DatasetRecordingSettings settings;
  settings.min_steps = 2400;
  record_dataset(player, random_actions(player.spec().action_space, 5), (root / "frames").string(), settings);
  const std::string config =
      "run: {seed: 1}\n"
      "data: {dataset: " + (root / "frames").string() + ", validation_fraction: 0.2, test_fraction: 0.2}\n"
      "agent: {algo: self_supervised, task: inverse_dynamics, batch_size: 32, network: {hidden: [64]}}\n"
      "trainer: {epochs: 6}\n";
  // Trains one encoder; returns its eval.csv and its accuracy on the held-out test episodes.
  auto run = [&](const std::string& name, const std::vector<std::string>& overrides) {
    const fs::path dir = root / name;
    fs::create_directories(dir);
    train(config, dir, overrides);
    const double accuracy = YAML::LoadFile((dir / "summary.yaml").string())["test"]["accuracy"].as<double>();
    return std::make_pair(testing::read_text(dir / "eval.csv"), accuracy);
  };
  const auto plain = run("plain", {});
  const auto shifted = run("shifted", {"agent.random_shift=4"});
  INFO(plain.first << shifted.first << "test accuracy: plain " << plain.second << ", shifted " << shifted.second);
  // Both read the motion off the frames, far above chance (0.25), on episodes they never saw
  // (0.985 and 0.979 when written). A shift of up to 4 pixels is as large as the motion, so it
  // must move a frame and its successor together: shifted independently, the encoder reached
  // only 0.852.
  CHECK(plain.second >= 0.9);
  CHECK(shifted.second >= 0.9);
  // The shifted frames train another encoder, the same one again with the same seed.
  CHECK(plain.first != shifted.first);
  CHECK(run("shifted-again", {"agent.random_shift=4"}).first == shifted.first);

  // PPO's CNN starts from the pretrained encoder (same Nature CNN on the same frames) and, frozen,
  // keeps it through training.
  const fs::path ppo_dir = root / "ppo";
  fs::create_directories(ppo_dir);
  train("run: {seed: 1}\n"
        "env: {id: MovingSquare-v0, num_envs: 1}\n"
        "agent: {n_steps: 32, batch_size: 32, n_epochs: 1, policy: {actor: [], critic: [], cnn_features: 64},\n"
        "        init_from: " + (root / "shifted").string() + ", init_layers: [cnn=encoder], freeze: [cnn]}\n"
        "trainer: {total_steps: 64, eval_every: 0, eval_episodes: 1}\n",
        ppo_dir);
  const fs::path encoder = root / "shifted" / "checkpoints" / "best.pt";
  for (const char* layer : {"0.weight", "2.bias", "4.weight", "7.weight"}) {
    INFO(layer);
    CHECK(model_tensor(ppo_dir / "checkpoints" / "last.pt", std::string("cnn.") + layer)
              .equal(model_tensor(encoder, std::string("encoder.") + layer)));
  }
  fs::remove_all(root);
}

TEST_CASE("random shift is for frames only", "[supervised][config]") {
  try {
    parse_config(kTable, "table.yaml", {"agent.random_shift=4"});
    FAIL("random_shift on a table was accepted");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("agent.random_shift: shifts uint8 image frames"));
  }
}
