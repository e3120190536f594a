// `rlforge dataset cluster`'s summary: every step counted once, return-to-go against a hand
// computation, representatives that are recorded states, near-failure states found by their
// return, and representative frames for image datasets.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>

#include "../test_files.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/data/recording.h"
#include "rlforge/envs/episode_player.h"
#include "rlforge/evaluation/dataset_clusters.h"
#include "rlforge/render/image_files.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

fs::path record(const std::string& env_id, int64_t steps, const std::string& name, const Options& options = {}) {
  const fs::path dir = testing::fresh_dir(name) / "data";
  VectorEnvConfig env;
  env.id = env_id;
  env.options = options;
  EpisodePlayer player(env);
  DatasetRecordingSettings settings;
  settings.min_steps = steps;
  record_dataset(player, random_actions(player.spec().action_space, 11), dir.string(), settings);
  return dir;
}

}  // namespace

TEST_CASE("dataset clusters count every step once and find the states near failure", "[dataset_cluster]") {
  const fs::path dir = record("CartPole-v1", 3000, "dataset-cluster-cartpole");
  DatasetClusterSettings settings;
  settings.k = 4;
  const DatasetClusters r = cluster_dataset(dir.string(), settings, "");
  const EpisodeDataset ds = EpisodeDataset::open(dir.string());
  REQUIRE(r.clusters.size() == 4);
  CHECK(r.steps == ds.num_steps());

  // CartPole pays 1 a step: at step t of an episode of L steps, L - t are still to come, so the
  // mean over all steps is sum L (L + 1) / 2 / N.
  double expected = 0;
  for (int64_t e = 0; e < ds.num_episodes(); ++e) {
    const double length = static_cast<double>(ds.episode(e).length);
    expected += length * (length + 1) / 2;
  }
  expected /= static_cast<double>(ds.num_steps());
  int64_t steps = 0;
  double weighted = 0, share = 0;
  for (const DatasetCluster& c : r.clusters) {
    steps += c.steps;
    share += c.share;
    weighted += c.mean_return_to_go * static_cast<double>(c.steps);
    CHECK(c.mean_reward == Approx(1.0));
    // The representative is a recorded step of the episode it names.
    CHECK(ds.episode(c.representative_episode).first_step + c.representative_step_in_episode == c.representative_step);
    REQUIRE(c.action_shares.size() == 2);
    CHECK(c.action_shares[0] + c.action_shares[1] == Approx(1.0));
  }
  CHECK(steps == ds.num_steps());
  CHECK(share == Approx(1.0));
  CHECK(weighted / static_cast<double>(steps) == Approx(expected).epsilon(1e-9));

  // The cluster leaning furthest (|theta|, element 2) is where episodes are about to end.
  const auto leaning = std::max_element(r.clusters.begin(), r.clusters.end(), [](const DatasetCluster& a, const DatasetCluster& b) {
    return std::abs(a.centre[2]) < std::abs(b.centre[2]);
  });
  CHECK(leaning->mean_return_to_go < 0.7 * expected);
  CHECK(r.element_names[2] == "theta");

  // The YAML reads back with the same figures; the same seed gives the same clusters.
  const YAML::Node yaml = YAML::Load(dataset_clusters_yaml(r));
  CHECK(yaml["clusters"].size() == 4);
  CHECK(yaml["clusters"][1]["steps"].as<int64_t>() == r.clusters[1].steps);
  CHECK(yaml["clusters"][0]["centre"]["theta_dot"].IsDefined());
  CHECK(dataset_clusters_yaml(cluster_dataset(dir.string(), settings, "")) == dataset_clusters_yaml(r));
  settings.k = ds.num_steps() + 1;
  CHECK_THROWS_WITH(cluster_dataset(dir.string(), settings, ""), Catch::Contains("expected 1 to the dataset's"));
}

TEST_CASE("image datasets cluster on small grey frames and show a recorded frame per cluster", "[dataset_cluster]") {
  // Pixels drawn directly at 96x96: Gymnasium's way costs about 40 times as much.
  const fs::path dir = record("CarRacing-v3", 1, "dataset-cluster-frames", {{"observation_render", "fast"}});
  const fs::path out = dir.parent_path() / "clusters";
  fs::create_directories(out);
  DatasetClusterSettings settings;
  settings.k = 3;
  const DatasetClusters r = cluster_dataset(dir.string(), settings, out.string());
  CHECK(r.frames);
  for (const DatasetCluster& c : r.clusters) {
    REQUIRE_FALSE(c.frame_file.empty());
    const Image image = read_image((out / c.frame_file).string());
    CHECK(image.width == 96);
    CHECK(image.height == 96);
    CHECK(c.centre.empty());
    CHECK(c.mean_action.size() == 3);
  }
}
