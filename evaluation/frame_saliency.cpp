#include "rlforge/evaluation/frame_saliency.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "rlforge/agents/networks.h"
#include "rlforge/data/atomic_file.h"
#include "rlforge/evaluation/evaluation.h"
#include "rlforge/evaluation/explain.h"
#include "rlforge/render/image_files.h"

namespace rlforge {

namespace {

namespace F = torch::nn::functional;

// Each channel of [B, C, H, W] blurred by a Gaussian of `sigma` pixels (edges repeated).
torch::Tensor gaussian_blur(const torch::Tensor& images, double sigma) {
  const int64_t radius = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigma)));
  const torch::Tensor offsets = torch::arange(-radius, radius + 1, torch::kFloat32);
  torch::Tensor kernel = (-offsets.pow(2) / (2 * sigma * sigma)).exp();
  kernel = kernel / kernel.sum();
  const int64_t channels = images.size(1);
  const torch::Tensor rows = kernel.view({1, 1, -1, 1}).repeat({channels, 1, 1, 1});
  const torch::Tensor cols = kernel.view({1, 1, 1, -1}).repeat({channels, 1, 1, 1});
  torch::Tensor x = F::pad(images, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReplicate));
  x = F::conv2d(x, rows, F::Conv2dFuncOptions().groups(channels));
  return F::conv2d(x, cols, F::Conv2dFuncOptions().groups(channels));
}

struct Grid {
  int64_t rows = 0, cols = 0;
  torch::Tensor masks;  // [G, 1, H, W], in [0, 1]
};

// Gaussian masks of spread `sigma` centred on a rows x cols grid over an H x W frame.
Grid make_grid(int64_t height, int64_t width, int64_t points, double sigma) {
  Grid g;
  g.rows = std::min(points, height);
  g.cols = std::min(points, width);
  const torch::Tensor ys = torch::arange(height, torch::kFloat32).view({1, height, 1});
  const torch::Tensor xs = torch::arange(width, torch::kFloat32).view({1, 1, width});
  const torch::Tensor cy = (torch::arange(g.rows, torch::kFloat32) + 0.5) * (static_cast<double>(height) / static_cast<double>(g.rows));
  const torch::Tensor cx = (torch::arange(g.cols, torch::kFloat32) + 0.5) * (static_cast<double>(width) / static_cast<double>(g.cols));
  const torch::Tensor centre_y = cy.repeat_interleave(g.cols).view({-1, 1, 1});
  const torch::Tensor centre_x = cx.repeat({g.rows}).view({-1, 1, 1});
  const torch::Tensor d2 = (ys - centre_y).pow(2) + (xs - centre_x).pow(2);
  g.masks = (-d2 / (2 * sigma * sigma)).exp().unsqueeze(1);
  return g;
}

struct FrameMaps {
  torch::Tensor action, value;  // [G] each
};

// Both saliency maps of one observation [1, ...] for `agent`.
FrameMaps saliency(Agent& agent, const torch::Tensor& observation, const ImageLayout& layout, const Grid& grid,
                   double blur_sigma) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = to_channels_first(observation, layout).to(torch::kFloat32);  // [1, C, H, W]
  const torch::Tensor blurred = gaussian_blur(x, blur_sigma);
  const torch::Tensor perturbed = x * (1 - grid.masks) + blurred * grid.masks;      // [G, C, H, W]
  const torch::Tensor batch = from_channels_first(torch::cat({x, perturbed}), layout, observation.sizes().slice(1));
  const Agent::Outputs out = agent.differentiable_outputs(batch);
  const torch::Tensor a = out.action.reshape({batch.size(0), -1}).to(torch::kCPU, torch::kFloat64);
  const torch::Tensor v = out.value.reshape({batch.size(0)}).to(torch::kCPU, torch::kFloat64);
  return {0.5 * (a.narrow(0, 1, a.size(0) - 1) - a[0]).pow(2).sum(1), 0.5 * (v.narrow(0, 1, v.size(0) - 1) - v[0]).pow(2)};
}

// The share of a map's total in its largest quarter of points (0.25 when it is flat).
double top_quarter_share(const torch::Tensor& map) {
  const double total = map.sum().item<double>();
  if (!(total > 0)) return 0.25;
  const torch::Tensor sorted = std::get<0>(map.sort(0, /*descending=*/true));
  return sorted.narrow(0, 0, std::max<int64_t>(1, sorted.numel() / 4)).sum().item<double>() / total;
}

// Integrated gradients of what the action is chosen from, for one frame: |attributions| summed
// over channels and action elements (averaged), pooled onto the grid [G]; `gap` and `sum` collect
// f(x) - f(b) and the attributions' sum per action element, for the completeness check.
torch::Tensor integrated_gradients(Agent& agent, const torch::Tensor& observation, const torch::Tensor& baseline,
                                   const ImageLayout& layout, const Grid& grid, int steps, bool discrete,
                                   std::vector<double>& gap, std::vector<double>& sum) {
  const torch::Tensor x = to_channels_first(observation, layout).to(torch::kFloat32);  // [1, C, H, W]
  const torch::Tensor delta = x - baseline;
  const torch::Tensor alphas = ((torch::arange(steps, torch::kFloat32) + 0.5) / steps).view({-1, 1, 1, 1});
  const torch::Tensor path = (baseline + alphas * delta).detach().requires_grad_(true);  // [S, C, H, W]
  const torch::AutoGradMode grad_mode(true);
  const c10::IntArrayRef shape = observation.sizes().slice(1);
  const torch::Tensor out = agent.differentiable_outputs(from_channels_first(path, layout, shape)).action;
  torch::Tensor ends;
  {
    torch::NoGradGuard no_grad;
    ends = agent.differentiable_outputs(from_channels_first(torch::cat({x, baseline}), layout, shape)).action.to(torch::kCPU);
  }
  // Discrete actions: the chosen action's log-probability; Box actions: each element.
  const torch::Tensor f = discrete ? torch::log_softmax(out, 1) : out.reshape({out.size(0), -1});
  const torch::Tensor f_ends = discrete ? torch::log_softmax(ends, 1) : ends.reshape({2, -1});
  std::vector<int64_t> targets;
  if (discrete) {
    targets.push_back(ends[0].argmax().item<int64_t>());
  } else {
    for (int64_t k = 0; k < f.size(1); ++k) targets.push_back(k);
  }
  torch::Tensor total = torch::zeros({x.size(2), x.size(3)});
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const int64_t k = targets[i];
    const torch::Tensor g = torch::autograd::grad({f.select(1, k).sum()}, {path}, {}, /*retain_graph=*/i + 1 < targets.size())[0];
    const torch::Tensor attribution = g.mean(0) * delta[0];  // [C, H, W]
    sum.push_back(attribution.sum().item<double>());
    gap.push_back(f_ends[0][k].item<double>() - f_ends[1][k].item<double>());
    total += attribution.detach().abs().sum(0);
  }
  total /= static_cast<double>(targets.size());
  return torch::adaptive_avg_pool2d(total.view({1, 1, x.size(2), x.size(3)}), {grid.rows, grid.cols})
      .reshape({-1})
      .to(torch::kFloat64);
}

std::vector<double> values_of(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// The last stacked frame of an observation [1, ...] as grey pixels [H, W] (float, 0-255).
torch::Tensor grey_frame(const torch::Tensor& observation, const ImageLayout& layout) {
  const torch::Tensor chw = to_channels_first(observation, layout)[0].to(torch::kFloat32);
  const int64_t per_frame = layout.order == ImageLayout::Order::stacked_channels_last ? observation.size(4) : layout.channels;
  return chw.narrow(0, chw.size(0) - per_frame, per_frame).mean(0);
}

// A grey frame with a saliency map ([rows x cols], already scaled to [0, 1]) blended over it in
// red, `scale` times larger: RGB bytes [scale H, scale W, 3].
torch::Tensor overlay(const torch::Tensor& grey, const torch::Tensor& map01, int64_t rows, int64_t cols, int scale) {
  const int64_t h = grey.size(0) * scale, w = grey.size(1) * scale;
  const torch::Tensor base = F::interpolate(grey.view({1, 1, grey.size(0), grey.size(1)}),
                                            F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kNearest))
                                 .view({h, w});
  const torch::Tensor heat = F::interpolate(map01.to(torch::kFloat32).view({1, 1, rows, cols}),
                                            F::InterpolateFuncOptions()
                                                .size(std::vector<int64_t>{h, w})
                                                .mode(torch::kBilinear)
                                                .align_corners(false))
                                 .view({h, w})
                                 .clamp(0, 1);
  // The picture dimmed where the policy looks, and red added there.
  const torch::Tensor dim = base * (1 - 0.5 * heat);
  const torch::Tensor red = (dim + 255 * heat).clamp(0, 255);
  return torch::stack({red, dim, dim}, 2).round().to(torch::kUInt8).contiguous();
}

}  // namespace

FrameSaliencyReport explain_frames(Agent& agent, Agent& randomized, const VectorEnvConfig& env,
                                   const FrameSaliencySettings& settings, const std::string& gif_path) {
  VectorEnvConfig single = env;
  single.randomize.clear();
  single.num_envs = 1;
  single.threads = 1;
  const EnvSpec spec = make_configured_env(single)->spec();
  const std::optional<ImageLayout> layout = image_layout(spec.observation_space);
  if (!layout) {
    throw std::invalid_argument("frame saliency explains image observations; " + spec.id + " has " +
                                spec.observation_space.describe());
  }
  if (settings.episodes < 1 || settings.max_frames < 1 || settings.grid < 1 || settings.gif_scale < 1 ||
      !(settings.blur_sigma > 0) || settings.patch_sigma < 0) {
    throw std::invalid_argument("frame saliency needs episodes, max_frames, grid and gif_scale >= 1, blur_sigma > 0, patch_sigma >= 0");
  }
  FrameSaliencyReport r;
  r.env_id = spec.id;
  r.height = layout->height;
  r.width = layout->width;
  r.blur_sigma = settings.blur_sigma;
  const double spacing = static_cast<double>(std::max(layout->height, layout->width)) /
                         static_cast<double>(std::min({settings.grid, layout->height, layout->width}));
  r.patch_sigma = settings.patch_sigma > 0 ? settings.patch_sigma : 1.25 * spacing;
  const Grid grid = make_grid(layout->height, layout->width, settings.grid, r.patch_sigma);
  r.grid_rows = grid.rows;
  r.grid_cols = grid.cols;

  // The episodes' observations, in order (one env: episode after episode).
  std::vector<torch::Tensor> observations;
  const EpisodeOutcomes outcomes = run_episodes(
      [&](const torch::Tensor& obs) { return agent.act(obs, settings.deterministic, agent.generator()); }, single,
      settings.episodes, settings.seed,
      [&](const torch::Tensor& obs, const torch::Tensor&) { observations.push_back(obs.to(torch::kCPU).clone()); });
  r.episodes = static_cast<int64_t>(outcomes.returns.size());
  for (const double ret : outcomes.returns) r.mean_return += ret / static_cast<double>(r.episodes);

  std::unique_ptr<GifWriter> gif;
  if (!gif_path.empty()) {
    gif = std::make_unique<GifWriter>(gif_path, static_cast<int>(layout->width * settings.gif_scale),
                                      static_cast<int>(layout->height * settings.gif_scale), 25.0);
  }
  const bool discrete = spec.action_space.is_discrete();
  const bool ig = settings.integrated_gradients;
  if (ig && settings.ig_baseline != "blurred" && settings.ig_baseline != "zeros" && settings.ig_baseline != "mean") {
    throw std::invalid_argument("unknown integrated-gradients baseline '" + settings.ig_baseline + "'; expected blurred, zeros or mean");
  }
  if (ig && settings.ig_steps < 1) throw std::invalid_argument("integrated gradients needs ig_steps >= 1");
  torch::Tensor mean_frame;  // channels first [1, C, H, W]
  if (ig && settings.ig_baseline == "mean") {
    mean_frame = torch::zeros_like(to_channels_first(observations.front(), *layout).to(torch::kFloat32));
    for (const torch::Tensor& o : observations) mean_frame += to_channels_first(o, *layout).to(torch::kFloat32);
    mean_frame /= static_cast<double>(observations.size());
  }
  const auto baseline_of = [&](const torch::Tensor& observation) {
    const torch::Tensor x = to_channels_first(observation, *layout).to(torch::kFloat32);
    if (settings.ig_baseline == "zeros") return torch::zeros_like(x);
    if (settings.ig_baseline == "mean") return mean_frame;
    return gaussian_blur(x, settings.ig_blur_sigma);
  };
  std::vector<torch::Tensor> ig_maps;
  std::vector<double> gaps, sums, random_gaps, random_sums;
  double ig_correlation = 0;
  std::vector<torch::Tensor> action_maps, value_maps;
  std::vector<torch::Tensor> gif_frames;
  double action_correlation = 0, value_correlation = 0, top_quarter = 0, random_top_quarter = 0;
  std::size_t next = 0;
  for (int64_t e = 0; e < r.episodes; ++e) {
    const auto length = static_cast<std::size_t>(outcomes.lengths[static_cast<std::size_t>(e)]);
    const std::size_t end = std::min(observations.size(), next + length);
    const std::size_t last = std::min(end, next + static_cast<std::size_t>(settings.max_frames));
    for (std::size_t t = next; t < last; ++t) {
      const FrameMaps trained = saliency(agent, observations[t], *layout, grid, settings.blur_sigma);
      const FrameMaps random = saliency(randomized, observations[t], *layout, grid, settings.blur_sigma);
      action_correlation += spearman(values_of(trained.action), values_of(random.action));
      value_correlation += spearman(values_of(trained.value), values_of(random.value));
      top_quarter += top_quarter_share(trained.action);
      random_top_quarter += top_quarter_share(random.action);
      action_maps.push_back(trained.action);
      if (ig) {
        const torch::Tensor b = baseline_of(observations[t]);
        const torch::Tensor m = integrated_gradients(agent, observations[t], b, *layout, grid, settings.ig_steps, discrete, gaps, sums);
        const torch::Tensor mr =
            integrated_gradients(randomized, observations[t], b, *layout, grid, settings.ig_steps, discrete, random_gaps, random_sums);
        ig_correlation += spearman(values_of(m), values_of(mr));
        ig_maps.push_back(m);
      }
      value_maps.push_back(trained.value);
      if (gif && e == 0) gif_frames.push_back(grey_frame(observations[t], *layout));
    }
    next = end;
  }
  r.frames = static_cast<int64_t>(action_maps.size());
  if (r.frames == 0) throw std::runtime_error("frame saliency: the episodes gave no frames");
  const torch::Tensor actions = torch::stack(action_maps), values = torch::stack(value_maps);  // [T, G]
  r.mean_action = values_of(actions.mean(0));
  r.mean_value = values_of(values.mean(0));
  r.action_randomization_correlation = action_correlation / static_cast<double>(r.frames);
  r.value_randomization_correlation = value_correlation / static_cast<double>(r.frames);
  r.action_top_quarter_share = top_quarter / static_cast<double>(r.frames);
  r.random_action_top_quarter_share = random_top_quarter / static_cast<double>(r.frames);
  if (ig) {
    r.ig_baseline = settings.ig_baseline;
    r.mean_integrated_gradients = values_of(torch::stack(ig_maps).mean(0));
    r.ig_randomization_correlation = ig_correlation / static_cast<double>(r.frames);
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < gaps.size(); ++i) {
      worst = std::max(worst, std::abs(sums[i] - gaps[i]));
      scale += std::abs(gaps[i]) / static_cast<double>(gaps.size());
    }
    r.ig_completeness_error = worst / std::max(scale, 1e-12);
  }

  if (gif) {
    // One scale for the whole episode (its 99th percentile), so that frames compare.
    const torch::Tensor first = actions.narrow(0, 0, static_cast<int64_t>(gif_frames.size()));
    const double top = std::max(1e-12, torch::quantile(first.flatten(), 0.99).item<double>());
    for (std::size_t t = 0; t < gif_frames.size(); ++t) {
      const torch::Tensor rgb = overlay(gif_frames[t], first[static_cast<int64_t>(t)] / top, grid.rows, grid.cols, settings.gif_scale);
      gif->add_frame(rgb.data_ptr<uint8_t>());
    }
    gif->finish();
  }
  return r;
}

std::vector<std::string> write_frame_saliency_report(const FrameSaliencyReport& r, const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto grid_rows = [&](const std::vector<double>& map) {
    std::vector<std::vector<double>> rows;
    for (int64_t i = 0; i < r.grid_rows; ++i) {
      rows.emplace_back(map.begin() + i * r.grid_cols, map.begin() + (i + 1) * r.grid_cols);
    }
    return rows;
  };
  YAML::Emitter out;
  out.SetDoublePrecision(6);
  out << YAML::BeginMap;
  out << YAML::Key << "env" << YAML::Value << r.env_id;
  out << YAML::Key << "method" << YAML::Value
      << "perturbation saliency (Greydanus et al. 2018): 1/2 squared change of the output when the frame is blurred "
         "under a Gaussian mask at each grid point";
  out << YAML::Key << "episodes" << YAML::Value << r.episodes << YAML::Key << "frames" << YAML::Value << r.frames;
  out << YAML::Key << "mean_return" << YAML::Value << r.mean_return;
  out << YAML::Key << "frame" << YAML::Value << YAML::Flow << std::vector<int64_t>{r.height, r.width};
  out << YAML::Key << "grid" << YAML::Value << YAML::Flow << std::vector<int64_t>{r.grid_rows, r.grid_cols};
  out << YAML::Key << "patch_sigma" << YAML::Value << r.patch_sigma << YAML::Key << "blur_sigma" << YAML::Value << r.blur_sigma;
  out << YAML::Key << "action_top_quarter_share" << YAML::Value << r.action_top_quarter_share;
  out << YAML::Key << "sanity" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "action_randomization_correlation" << YAML::Value << r.action_randomization_correlation;
  out << YAML::Key << "value_randomization_correlation" << YAML::Value << r.value_randomization_correlation;
  out << YAML::Key << "random_action_top_quarter_share" << YAML::Value << r.random_action_top_quarter_share;
  out << YAML::EndMap;
  out << YAML::Key << "mean_action_saliency" << YAML::Value << YAML::BeginSeq;
  for (const auto& row : grid_rows(r.mean_action)) out << YAML::Flow << row;
  out << YAML::EndSeq;
  out << YAML::Key << "mean_value_saliency" << YAML::Value << YAML::BeginSeq;
  for (const auto& row : grid_rows(r.mean_value)) out << YAML::Flow << row;
  out << YAML::EndSeq;
  if (!r.mean_integrated_gradients.empty()) {
    out << YAML::Key << "integrated_gradients" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "baseline" << YAML::Value << r.ig_baseline;
    out << YAML::Key << "completeness_error" << YAML::Value << r.ig_completeness_error;
    out << YAML::Key << "sanity_rank_correlation_with_random_weights" << YAML::Value << r.ig_randomization_correlation;
    out << YAML::Key << "mean_abs" << YAML::Value << YAML::BeginSeq;
    for (const auto& row : grid_rows(r.mean_integrated_gradients)) out << YAML::Flow << row;
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndMap;
  const std::string yaml_path = (std::filesystem::path(dir) / "explain.yaml").string();
  write_data_file_atomically(yaml_path, std::string("# rlforge explain (frames)\n") + out.c_str() + "\n");

  // The mean action saliency as a picture of its own (no frame under it).
  const torch::Tensor map = torch::tensor(r.mean_action, torch::kFloat64);
  const double top = std::max(1e-12, map.max().item<double>());
  const torch::Tensor rgb = overlay(torch::zeros({r.height, r.width}), map / top, r.grid_rows, r.grid_cols, 4);
  Image image;
  image.width = static_cast<int>(r.width * 4);
  image.height = static_cast<int>(r.height * 4);
  image.rgb.assign(rgb.data_ptr<uint8_t>(), rgb.data_ptr<uint8_t>() + rgb.numel());
  const std::string png_path = (std::filesystem::path(dir) / "saliency_mean_action.png").string();
  write_png(png_path, image);
  std::vector<std::string> files{yaml_path, png_path};
  if (!r.mean_integrated_gradients.empty()) {
    const torch::Tensor ig = torch::tensor(r.mean_integrated_gradients, torch::kFloat64);
    const torch::Tensor ig_rgb =
        overlay(torch::zeros({r.height, r.width}), ig / std::max(1e-12, ig.max().item<double>()), r.grid_rows, r.grid_cols, 4);
    image.rgb.assign(ig_rgb.data_ptr<uint8_t>(), ig_rgb.data_ptr<uint8_t>() + ig_rgb.numel());
    files.push_back((std::filesystem::path(dir) / "integrated_gradients_mean.png").string());
    write_png(files.back(), image);
  }
  return files;
}

}  // namespace rlforge
