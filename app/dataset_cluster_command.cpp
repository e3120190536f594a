#include "dataset_cluster_command.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>

#include "cli_errors.h"
#include "rlforge/data/atomic_file.h"
#include "rlforge/evaluation/dataset_clusters.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

struct ClusterArgs {
  std::string dataset, out;
  DatasetClusterSettings settings;
};

std::string figure(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

int cluster(const ClusterArgs& args) {
  const fs::path dataset_dir = fs::is_directory(args.dataset) ? fs::path(args.dataset) : fs::path(args.dataset).parent_path();
  const fs::path out = args.out.empty() ? dataset_dir / "clusters" : fs::path(args.out);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw std::runtime_error("--out " + out.string() + ": cannot create the directory: " + ec.message());
  const DatasetClusters r = cluster_dataset(args.dataset, args.settings, out.string());
  const fs::path file = out / "clusters.yaml";
  write_data_file_atomically(file.string(), dataset_clusters_yaml(r));

  std::cout << r.env_id << ": " << r.steps << " steps in " << r.episodes << " episodes, k-means with k = " << r.k << " on "
            << r.fit_steps << " steps (" << r.iterations << " iterations), silhouette " << figure(r.silhouette, 3) << "\n";
  std::cout << "cluster  steps   share  episodes  return-to-go (mean +- std)  reward/step  actions\n";
  for (std::size_t j = 0; j < r.clusters.size(); ++j) {
    const DatasetCluster& c = r.clusters[j];
    std::string actions;
    if (!c.action_shares.empty()) {
      // The most taken action and its share.
      const auto top = std::max_element(c.action_shares.begin(), c.action_shares.end());
      actions = "mostly " + std::to_string(top - c.action_shares.begin()) + " (" + figure(100 * *top, 0) + "%)";
    } else {
      for (const double a : c.mean_action) actions += (actions.empty() ? "mean " : ", ") + figure(a, 2);
    }
    std::printf("%7zu  %6lld  %5.1f%%  %8lld  %12s +- %-10s  %11s  %s\n", j, static_cast<long long>(c.steps), 100 * c.share,
                static_cast<long long>(c.episodes), figure(c.mean_return_to_go, 1).c_str(),
                figure(c.std_return_to_go, 1).c_str(), figure(c.mean_reward, 3).c_str(), actions.c_str());
  }
  std::fflush(stdout);
  std::cout << "written: " << file.string() << (r.frames ? " and each cluster's representative frame" : "") << std::endl;
  return 0;
}

}  // namespace

void add_dataset_cluster_command(CLI::App& app, int& exit_code) {
  CLI::App* dataset = app.get_subcommand("dataset");
  auto* cmd = dataset->add_subcommand(
      "cluster", "Summarise the behaviour in a dataset by k-means clusters of its states: sizes, return-to-go, actions, "
                 "a representative state (a frame for image datasets)");
  cmd->footer(
      "Vector observations are standardised; frames are averaged down to grey images of at most --frame-size pixels a "
      "side. k-means (k-means++ seeding, Lloyd's iterations) is fitted on a seeded sample of --max-fit-steps steps, "
      "then every step is assigned. Writes OUT/clusters.yaml (and OUT/cluster_K.png for frames); OUT defaults to "
      "DATASET/clusters.");
  auto args = std::make_shared<ClusterArgs>();
  cmd->add_option("DATASET", args->dataset, "Dataset directory or its episodes.bin")->required();
  cmd->add_option("--k", args->settings.k, "Number of clusters")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--seed", args->settings.seed, "Seed of the sample and of k-means++")->capture_default_str();
  cmd->add_option("--max-fit-steps", args->settings.max_fit_steps, "Steps k-means is fitted on (a seeded sample)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  cmd->add_option("--frame-size", args->settings.frame_size, "Frames: pixels a side after averaging down")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  cmd->add_option("--out", args->out, "Output directory (default: DATASET/clusters)");
  cmd->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return cluster(*args); }); });
}

}  // namespace rlforge::cli
