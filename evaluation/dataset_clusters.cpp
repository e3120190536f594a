#include "rlforge/evaluation/dataset_clusters.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "rlforge/agents/networks.h"
#include "rlforge/agents/unsupervised.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/envs/registry.h"
#include "rlforge/evaluation/env_tensors.h"
#include "rlforge/evaluation/explain.h"
#include "rlforge/render/image_files.h"

namespace rlforge {

namespace {

using namespace clustering;

// Steps read from the mapping at a time.
constexpr int64_t kBlockSteps = 4096;

// The observations of `steps` (int64 indices) as the env gave them, [n, ...].
torch::Tensor observations(const EpisodeDataset& ds, const torch::Tensor& steps) {
  const Space& space = ds.observation_space();
  std::vector<int64_t> shape{steps.numel()};
  shape.insert(shape.end(), space.shape().begin(), space.shape().end());
  torch::Tensor out = torch::empty(shape, torch_dtype(space.dtype()));
  ds.gather_observations(steps.data_ptr<int64_t>(), steps.numel(), out.data_ptr());
  return out;
}

// What k-means sees of a step: the flattened vector, or the frame averaged down to grey.
class Features {
 public:
  Features(const EpisodeDataset& ds, int64_t frame_size) : ds_(ds), layout_(image_layout(ds.observation_space())) {
    if (layout_) {
      height_ = std::min(frame_size, layout_->height);
      width_ = std::min(frame_size, layout_->width);
    }
  }
  bool frames() const { return layout_.has_value(); }
  torch::Tensor of(const torch::Tensor& steps) const {
    torch::Tensor obs = observations(ds_, steps);
    if (!layout_) return obs.reshape({steps.numel(), -1}).to(torch::kFloat64);
    const torch::Tensor images = to_channels_first(obs, *layout_).to(torch::kFloat32);
    const torch::Tensor small = torch::adaptive_avg_pool2d(images, {height_, width_}).mean(1);
    return small.reshape({steps.numel(), -1}).to(torch::kFloat64);
  }

 private:
  const EpisodeDataset& ds_;
  std::optional<ImageLayout> layout_;
  int64_t height_ = 0, width_ = 0;
};

// A recorded frame as an RGB image: the last frame of a stack, grey channels repeated.
Image frame_image(const EpisodeDataset& ds, int64_t step) {
  const ImageLayout layout = *image_layout(ds.observation_space());
  const torch::Tensor steps = torch::tensor({step}, torch::kInt64);
  const torch::Tensor chw = to_channels_first(observations(ds, steps), layout)[0];  // [C, H, W]
  const int64_t per_frame = layout.order == ImageLayout::Order::stacked_channels_last
                                ? ds.observation_space().shape().back()
                                : layout.channels;
  torch::Tensor last = chw.narrow(0, chw.size(0) - per_frame, per_frame);
  if (last.size(0) >= 3) {
    last = last.narrow(0, 0, 3);
  } else {
    last = last.narrow(0, 0, 1).expand({3, layout.height, layout.width});
  }
  const torch::Tensor hwc = last.permute({1, 2, 0}).contiguous().to(torch::kUInt8);
  Image image;
  image.width = static_cast<int>(layout.width);
  image.height = static_cast<int>(layout.height);
  image.rgb.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
  return image;
}

}  // namespace

std::vector<std::string> recorded_observation_names(const EpisodeDataset& ds) {
  EnvSpec spec;
  try {
    spec = make_env(ds.env_id())->spec();
  } catch (const std::exception&) {
    // An env this program does not know (a plugin's): names by index.
  }
  if (spec.observation_space.size() != ds.observation_space().size()) {
    spec.observation_names.clear();
    spec.observation_space = ds.observation_space();
  }
  return observation_element_names(spec);
}

DatasetClusters cluster_dataset(const std::string& dataset_dir, const DatasetClusterSettings& settings,
                                const std::string& out_dir) {
  const EpisodeDataset ds = EpisodeDataset::open(dataset_dir);
  const int64_t n = ds.num_steps();
  if (settings.k < 1 || settings.k > n) {
    throw std::invalid_argument("--k " + std::to_string(settings.k) + ": expected 1 to the dataset's " +
                                std::to_string(n) + " steps");
  }
  if (settings.max_fit_steps < settings.k) {
    throw std::invalid_argument("--max-fit-steps " + std::to_string(settings.max_fit_steps) + " is below --k " +
                                std::to_string(settings.k));
  }
  const Features features(ds, settings.frame_size);
  DatasetClusters r;
  r.dataset = ds.path();
  r.env_id = ds.env_id();
  r.observation_space = ds.observation_space().describe();
  r.action_space = ds.action_space().describe();
  r.frames = features.frames();
  if (!r.frames) r.element_names = recorded_observation_names(ds);
  r.k = settings.k;
  r.steps = n;
  r.episodes = ds.num_episodes();
  r.seed = settings.seed;

  // Fit on a seeded sample of steps, standardised by its own statistics.
  torch::Generator generator = at::detail::createCPUGenerator(settings.seed);
  torch::Tensor fit_steps = torch::arange(n, torch::kInt64);
  if (n > settings.max_fit_steps) {
    fit_steps = std::get<0>(torch::randperm(n, generator, torch::kInt64).narrow(0, 0, settings.max_fit_steps).sort());
  }
  r.fit_steps = fit_steps.numel();
  std::vector<torch::Tensor> blocks;
  for (int64_t begin = 0; begin < fit_steps.numel(); begin += kBlockSteps) {
    blocks.push_back(features.of(fit_steps.narrow(0, begin, std::min(kBlockSteps, fit_steps.numel() - begin))));
  }
  const torch::Tensor fit_raw = torch::cat(blocks);
  const torch::Tensor mean = fit_raw.mean(0);
  const torch::Tensor spread = fit_raw.std(0, /*unbiased=*/false);
  const torch::Tensor scale = torch::where(spread > 1e-8, spread, torch::ones_like(spread));
  const torch::Tensor fit_x = (fit_raw - mean) / scale;
  const KMeansFit fit = kmeans(fit_x, settings.k, generator);
  r.iterations = fit.iterations;
  r.inertia = fit.inertia;
  {
    const int64_t m = std::min(settings.silhouette_steps, fit_x.size(0));
    const torch::Tensor rows = torch::randperm(fit_x.size(0), generator, torch::kInt64).narrow(0, 0, m);
    const torch::Tensor labels = fit.labels.index_select(0, rows);
    r.silhouette = std::get<0>(torch::_unique(labels)).numel() >= 2 ? silhouette_score(fit_x.index_select(0, rows), labels) : NAN;
  }

  // Every step's cluster, its distance to the centre, reward and return to go.
  torch::Tensor labels = torch::empty({n}, torch::kInt64), distances = torch::empty({n}, torch::kFloat64);
  for (int64_t begin = 0; begin < n; begin += kBlockSteps) {
    const int64_t count = std::min(kBlockSteps, n - begin);
    const Assignment a = nearest_centres((features.of(torch::arange(begin, begin + count, torch::kInt64)) - mean) / scale, fit.centres);
    labels.narrow(0, begin, count).copy_(a.labels);
    distances.narrow(0, begin, count).copy_(a.sq_distances);
  }
  const torch::Tensor all_steps = torch::arange(n, torch::kInt64);
  torch::Tensor rewards = torch::empty({n}, torch::kFloat32);
  ds.gather_rewards(all_steps.data_ptr<int64_t>(), n, rewards.data_ptr<float>());
  torch::Tensor to_go = torch::empty({n}, torch::kFloat64), episode_of = torch::empty({n}, torch::kInt64);
  for (int64_t e = 0; e < ds.num_episodes(); ++e) {
    const EpisodeDataset::Episode ep = ds.episode(e);
    const torch::Tensor r_e = rewards.narrow(0, ep.first_step, ep.length).to(torch::kFloat64);
    to_go.narrow(0, ep.first_step, ep.length).copy_(r_e.flip(0).cumsum(0).flip(0));
    episode_of.narrow(0, ep.first_step, ep.length).fill_(e);
  }
  const int64_t action_width = static_cast<int64_t>(ds.action_space().size());
  torch::Tensor actions = torch::empty({n, action_width}, torch::kFloat32);
  ds.gather_actions(all_steps.data_ptr<int64_t>(), n, actions.data_ptr<float>());

  const torch::Tensor centres = fit.centres * scale + mean;
  for (int64_t j = 0; j < settings.k; ++j) {
    DatasetCluster c;
    const torch::Tensor members = torch::nonzero(labels.eq(j)).squeeze(1);
    c.steps = members.numel();
    c.share = static_cast<double>(c.steps) / static_cast<double>(n);
    if (c.steps > 0) {
      c.episodes = std::get<0>(torch::_unique(episode_of.index_select(0, members))).numel();
      const torch::Tensor g = to_go.index_select(0, members);
      c.mean_return_to_go = g.mean().item<double>();
      c.std_return_to_go = g.std(/*unbiased=*/false).item<double>();
      c.mean_reward = rewards.index_select(0, members).to(torch::kFloat64).mean().item<double>();
      const torch::Tensor a = actions.index_select(0, members);
      if (ds.action_space().is_discrete()) {
        const torch::Tensor counts = torch::bincount(a.squeeze(1).to(torch::kInt64), {}, ds.action_space().n());
        for (int64_t i = 0; i < counts.numel(); ++i) c.action_shares.push_back(counts[i].item<double>() / static_cast<double>(c.steps));
      } else {
        const torch::Tensor m = a.to(torch::kFloat64).mean(0);
        for (int64_t i = 0; i < m.numel(); ++i) c.mean_action.push_back(m[i].item<double>());
      }
      c.representative_step = members[distances.index_select(0, members).argmin()].item<int64_t>();
      c.representative_episode = ds.episode_of_step(c.representative_step);
      c.representative_step_in_episode = c.representative_step - ds.episode(c.representative_episode).first_step;
    }
    if (!r.frames) {
      for (int64_t i = 0; i < centres.size(1); ++i) c.centre.push_back(centres[j][i].item<double>());
    } else if (c.steps > 0 && !out_dir.empty()) {
      c.frame_file = "cluster_" + std::to_string(j) + ".png";
      write_png((std::filesystem::path(out_dir) / c.frame_file).string(), frame_image(ds, c.representative_step));
    }
    r.clusters.push_back(std::move(c));
  }
  return r;
}

std::string dataset_clusters_yaml(const DatasetClusters& r) {
  YAML::Emitter out;
  out.SetDoublePrecision(8);
  out << YAML::BeginMap;
  out << YAML::Key << "dataset" << YAML::Value << r.dataset << YAML::Key << "env" << YAML::Value << r.env_id;
  out << YAML::Key << "observation_space" << YAML::Value << r.observation_space;
  out << YAML::Key << "action_space" << YAML::Value << r.action_space;
  out << YAML::Key << "features" << YAML::Value
      << (r.frames ? "frames averaged down to grey, standardised" : "observations, standardised");
  out << YAML::Key << "steps" << YAML::Value << r.steps << YAML::Key << "episodes" << YAML::Value << r.episodes;
  out << YAML::Key << "fit_steps" << YAML::Value << r.fit_steps << YAML::Key << "seed" << YAML::Value << r.seed;
  out << YAML::Key << "k" << YAML::Value << r.k << YAML::Key << "iterations" << YAML::Value << r.iterations;
  out << YAML::Key << "inertia" << YAML::Value << r.inertia << YAML::Key << "silhouette" << YAML::Value << r.silhouette;
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq;
  for (std::size_t j = 0; j < r.clusters.size(); ++j) {
    const DatasetCluster& c = r.clusters[j];
    out << YAML::BeginMap << YAML::Key << "cluster" << YAML::Value << j;
    out << YAML::Key << "steps" << YAML::Value << c.steps << YAML::Key << "share" << YAML::Value << c.share;
    out << YAML::Key << "episodes" << YAML::Value << c.episodes;
    out << YAML::Key << "mean_return_to_go" << YAML::Value << c.mean_return_to_go;
    out << YAML::Key << "std_return_to_go" << YAML::Value << c.std_return_to_go;
    out << YAML::Key << "mean_reward" << YAML::Value << c.mean_reward;
    if (!c.action_shares.empty()) out << YAML::Key << "action_shares" << YAML::Value << YAML::Flow << c.action_shares;
    if (!c.mean_action.empty()) out << YAML::Key << "mean_action" << YAML::Value << YAML::Flow << c.mean_action;
    if (!c.centre.empty()) {
      out << YAML::Key << "centre" << YAML::Value << YAML::Flow << YAML::BeginMap;
      for (std::size_t i = 0; i < c.centre.size(); ++i) out << YAML::Key << r.element_names[i] << YAML::Value << c.centre[i];
      out << YAML::EndMap;
    }
    out << YAML::Key << "representative" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "step"
        << YAML::Value << c.representative_step << YAML::Key << "episode" << YAML::Value << c.representative_episode
        << YAML::Key << "step_in_episode" << YAML::Value << c.representative_step_in_episode << YAML::EndMap;
    if (!c.frame_file.empty()) out << YAML::Key << "frame" << YAML::Value << c.frame_file;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string("# rlforge dataset cluster\n") + out.c_str() + "\n";
}

}  // namespace rlforge
