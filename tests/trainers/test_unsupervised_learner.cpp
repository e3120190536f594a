// Unsupervised learning on the shared Trainer: k-means and a Gaussian mixture recover generated
// classes they never saw, sweeps choose their number, the autoencoder reconstructs, runs resume
// exactly, recorded observations cluster by element name, and bad configs are refused.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <sstream>

#include "../test_files.h"
#include "config_error.h"
#include "rlforge/data/recording.h"
#include "rlforge/envs/episode_player.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

// Four Gaussian classes in a 2-feature subspace of 4 features, far apart.
const char* kBlobs =
    "run: {seed: 2}\n"
    "data: {generate: classification, rows: 2000, features: 4, classes: 4, class_separation: 3.0}\n"
    "agent: {algo: unsupervised, task: kmeans, clusters_sweep: [2, 3, 4, 5, 6]}\n";

YAML::Node train(const std::string& yaml, const fs::path& dir, const std::vector<std::string>& overrides = {},
                 RunControl control = {}, TrainResult* result = nullptr) {
  std::ostringstream progress;
  Trainer trainer(parse_config(yaml, "unsupervised_test.yaml", overrides), dir.string(), progress);
  const TrainResult r = trainer.run(control);
  if (result != nullptr) *result = r;
  return fs::exists(dir / "summary.yaml") ? YAML::LoadFile((dir / "summary.yaml").string()) : YAML::Node();
}

}  // namespace

TEST_CASE("k-means chooses the classes' number by silhouette and recovers them", "[unsupervised]") {
  const fs::path dir = testing::fresh_dir("unsupervised-kmeans");
  TrainResult r;
  const YAML::Node summary = train(kBlobs, dir, {}, {}, &r);
  INFO(testing::read_text(dir / "summary.yaml"));
  CHECK(summary["unsupervised"]["sweep_chosen"].as<int64_t>() == 4);
  CHECK(summary["unsupervised"]["sweep"].size() == 5);
  // The labels were never seen; the clusters are the classes.
  CHECK(summary["test"]["adjusted_rand_index"].as<double>() >= 0.95);
  // Lloyd's iterations stop well before trainer.epochs (100) once no row moves.
  CHECK(r.env_steps < 100);
  CHECK_THAT(summary["unsupervised"]["converged"].as<std::string>(), Catch::Contains("no row changed cluster"));
  double share = 0;
  for (const auto& c : summary["unsupervised"]["cluster_summary"]) share += c["share"].as<double>();
  CHECK(share == Approx(1.0));
  CHECK(summary["unsupervised"]["cluster_summary"][0]["centre"]["x3"].IsDefined());
  // The alarm is the validation rows' 95th percentile: held-out test rows raise it about as often.
  const double alarms = summary["test"]["novelty_alarm_rate"].as<double>();
  CHECK(alarms > 0.0);
  CHECK(alarms < 0.12);
}

TEST_CASE("a Gaussian mixture chooses its components by BIC and its EM never loses likelihood", "[unsupervised]") {
  const fs::path dir = testing::fresh_dir("unsupervised-mixture");
  const YAML::Node summary = train(kBlobs, dir, {"agent.task=gaussian_mixture", "agent.tolerance=0"});
  INFO(testing::read_text(dir / "summary.yaml"));
  CHECK(summary["unsupervised"]["sweep_chosen"].as<int64_t>() == 4);
  CHECK(summary["test"]["adjusted_rand_index"].as<double>() >= 0.95);
  CHECK(std::isfinite(summary["unsupervised"]["bic"].as<double>()));
  CHECK(std::isfinite(summary["test"]["nll"].as<double>()));
  // metrics.csv: epoch, train_log_likelihood, gain, ...
  std::istringstream csv(testing::read_text(dir / "metrics.csv"));
  std::string line;
  std::getline(csv, line);
  REQUIRE_THAT(line, Catch::StartsWith("epoch,train_log_likelihood"));
  double previous = -1e300;
  int rows = 0;
  while (std::getline(csv, line)) {
    const auto a = line.find(','), b = line.find(',', a + 1);
    const double ll = std::stod(line.substr(a + 1, b - a - 1));
    CHECK(ll >= previous - 1e-9);
    previous = ll;
    ++rows;
  }
  CHECK(rows >= 2);
}

TEST_CASE("an autoencoder reconstructs the informative features better than their mean", "[unsupervised]") {
  const fs::path dir = testing::fresh_dir("unsupervised-autoencoder");
  const YAML::Node summary =
      train(kBlobs, dir, {"agent={algo: unsupervised, task: autoencoder, latent: 2, network: {hidden: [32]}}", "trainer.epochs=15"});
  INFO(testing::read_text(dir / "summary.yaml"));
  // Standardised inputs: predicting each feature's mean costs 1. Two of the four features carry
  // the classes and fit in the two latent units; the two noise features do not.
  const double loss = summary["test"]["loss"].as<double>();
  CHECK(loss < 0.7);
  CHECK(loss > 0.2);
  CHECK_FALSE(summary["unsupervised"]["cluster_summary"].IsDefined());
}

TEST_CASE("unsupervised runs stopped and resumed end like uninterrupted ones", "[unsupervised]") {
  for (const std::string task : {"kmeans", "autoencoder"}) {
    const std::vector<std::string> set = task == "kmeans"
                                             ? std::vector<std::string>{"agent.clusters_sweep=[]", "agent.clusters=6", "trainer.epochs=8"}
                                             : std::vector<std::string>{"agent={algo: unsupervised, task: autoencoder}", "trainer.epochs=6"};
    const fs::path whole = testing::fresh_dir("unsupervised-whole-" + task), parts = testing::fresh_dir("unsupervised-parts-" + task);
    train(kBlobs, whole, set);
    RunControl stop;
    stop.stop_after_steps = 3;
    TrainResult r;
    train(kBlobs, parts, set, stop, &r);
    CHECK(r.stopped);
    RunControl resume;
    resume.resume = true;
    train(kBlobs, parts, set, resume);
    CHECK(testing::read_text(parts / "metrics.csv") == testing::read_text(whole / "metrics.csv"));
    CHECK(testing::read_text(parts / "eval.csv") == testing::read_text(whole / "eval.csv"));
  }
}

TEST_CASE("recorded observations cluster, and the summary names their elements", "[unsupervised]") {
  const fs::path root = testing::fresh_dir("unsupervised-dataset");
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  EpisodePlayer player(env);
  DatasetRecordingSettings settings;
  settings.min_steps = 2000;
  settings.policy_description = "random actions";
  record_dataset(player, random_actions(player.spec().action_space, 3), (root / "random").string(), settings);
  const fs::path dir = root / "run";
  fs::create_directories(dir);
  const YAML::Node summary =
      train("data: {dataset: " + (root / "random").string() + "}\nagent: {algo: unsupervised, task: kmeans, clusters: 3}\n", dir);
  INFO(testing::read_text(dir / "summary.yaml"));
  CHECK(summary["unsupervised"]["clusters"].as<int64_t>() == 3);
  CHECK(summary["unsupervised"]["cluster_summary"][0]["centre"]["theta_dot"].IsDefined());
  CHECK(summary["data"]["unit"].as<std::string>() == "steps (split by episode)");
  CHECK_FALSE(summary["test"]["adjusted_rand_index"].IsDefined());
}

TEST_CASE("unsupervised configs that cannot work are refused in one line", "[unsupervised]") {
  CHECK_THAT(testing::config_error_of(kBlobs, {"agent.clusters_sweep=[1, 2]"}), Catch::Contains("agent.clusters_sweep") && Catch::Contains("at least 2"));
  // k-means has no optimiser or network.
  CHECK_THAT(testing::config_error_of(kBlobs, {"agent.batch_size=32"}), Catch::Contains("agent.batch_size") && Catch::Contains("applies only with agent.task"));
  CHECK_THAT(testing::config_error_of(kBlobs, {"agent.latent=3"}), Catch::Contains("agent.latent") && Catch::Contains("autoencoder"));
  CHECK_THAT(testing::config_error_of(kBlobs, {"agent.task=classification"}), Catch::Contains("kmeans, gaussian_mixture, autoencoder"));
  // More clusters than training rows.
  const fs::path dir = testing::fresh_dir("unsupervised-too-many");
  CHECK_THROWS_WITH(train(kBlobs, dir, {"data.rows=20", "agent.clusters_sweep=[]", "agent.clusters=30"}),
                    Catch::Contains("agent.clusters: 30 clusters for 14 training rows"));
}
