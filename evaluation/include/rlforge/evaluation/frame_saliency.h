#pragma once
// Which parts of the picture a pixel policy looks at: perturbation saliency (Greydanus et al.,
// "Visualizing and Understanding Atari Agents", 2018). For every frame of a held-out episode and
// every point of a grid, the frame is blurred around that point (a Gaussian mask of the blurred
// frame over the frame: every stacked frame at the same place) and the policy's outputs are
// compared with those on the clean frame:
//   action saliency  1/2 |a(x) - a(x')|^2 of what the action is chosen from (PPO's logits or
//                    action mean, DQN's Q-values)
//   value saliency   1/2 (v(x) - v(x'))^2 of the critic's estimate
// Integrated gradients (Sundararajan et al. 2017) of the same action output are computed too, from
// a baseline frame (a heavily blurred copy of the frame, black, or the episode's mean frame), with
// |attributions| summed over channels and averaged onto the grid; completeness is checked.
// The sanity check (Adebayo et al. 2018) computes the same maps with a re-initialised network and
// reports their Spearman correlation with the trained network's, per frame.

#include <cstdint>
#include <string>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/envs/vector_env.h"

namespace rlforge {

struct FrameSaliencySettings {
  int64_t episodes = 1;     // explained episodes, one after another on one env
  int64_t max_frames = 500;  // per episode: the rest of a longer episode is left out
  uint64_t seed = 0;
  int64_t grid = 16;        // grid points per side (at most the frame's pixels)
  double patch_sigma = 0;   // the mask's spread in pixels; 0: 1.25 grid spacings
  double blur_sigma = 3;    // the blur that replaces the picture under the mask
  bool deterministic = true;
  int gif_scale = 3;        // the GIF's pixels per observation pixel
  bool integrated_gradients = true;
  std::string ig_baseline = "blurred";  // blurred | zeros | mean
  double ig_blur_sigma = 6;             // the blurred baseline's Gaussian, in pixels
  int ig_steps = 16;
};

struct FrameSaliencyReport {
  std::string env_id;
  int64_t frames = 0, episodes = 0;
  int64_t height = 0, width = 0, grid_rows = 0, grid_cols = 0;
  double patch_sigma = 0, blur_sigma = 0;
  double mean_return = 0;
  // Mean saliency per grid point over the frames, row-major [grid_rows x grid_cols].
  std::vector<double> mean_action, mean_value;
  // The sanity check: mean Spearman correlation of the trained and re-initialised maps.
  double action_randomization_correlation = 0, value_randomization_correlation = 0;
  // The share of the action saliency in the grid's most salient quarter of points, averaged over
  // frames (0.25 when the policy looks everywhere alike).
  double action_top_quarter_share = 0;
  double random_action_top_quarter_share = 0;  // the same for the re-initialised network
  // Integrated gradients (empty when not computed): mean |attribution| per grid point, the sanity
  // correlation, and completeness: max |sum of attributions - (f(x) - f(b))| / mean |f(x) - f(b)|.
  std::string ig_baseline;
  std::vector<double> mean_integrated_gradients;
  double ig_randomization_correlation = 0, ig_completeness_error = 0;
};

// Explains `agent` (and, for the sanity check, `randomized`, the same network freshly initialised)
// on `settings.episodes` episodes of `env` from `settings.seed`. Writes the first episode as a GIF
// at `gif_path` (the last stacked frame in grey, the action saliency blended over it in red); no
// GIF when `gif_path` is empty. Throws std::invalid_argument when the observations are not
// images.
FrameSaliencyReport explain_frames(Agent& agent, Agent& randomized, const VectorEnvConfig& env,
                                   const FrameSaliencySettings& settings, const std::string& gif_path);

// explain.yaml (the maps by grid point, the sanity correlations, the settings) and a PNG of the
// mean action saliency, written atomically into `dir`; returns the files written.
std::vector<std::string> write_frame_saliency_report(const FrameSaliencyReport& report, const std::string& dir);

}  // namespace rlforge
