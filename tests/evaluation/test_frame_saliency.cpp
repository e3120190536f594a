// Perturbation saliency of pixel policies: a policy that reads one patch of the picture gets its
// saliency there, a policy reading another patch disagrees with it (the sanity check), and the
// episode's GIF is written.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "../test_files.h"
#include "rlforge/agents/networks.h"
#include "rlforge/evaluation/frame_saliency.h"
#include "rlforge/render/image_files.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

// A stand-in for a pixel policy: its action output is the mean of a square of the picture (rows
// and columns [top, top + size)), its value the same; it drives straight with no throttle.
class PatchReader : public Agent {
 public:
  PatchReader(int64_t top, int64_t left, int64_t size) : top_(top), left_(left), size_(size) {}
  torch::Tensor act(const torch::Tensor& observations, bool, torch::Generator&) override {
    return torch::zeros({observations.size(0), 3});
  }
  Outputs differentiable_outputs(const torch::Tensor& observations) override {
    const torch::Tensor patch = observations.narrow(1, top_, size_).narrow(2, left_, size_).to(torch::kFloat32);
    const torch::Tensor mean = patch.mean({1, 2, 3});
    return {mean.unsqueeze(1), mean};
  }
  void save(torch::serialize::OutputArchive&, torch::serialize::OutputArchive&) override {}
  void load(torch::serialize::InputArchive&, torch::serialize::InputArchive&) override {}
  torch::Generator& generator() override { return generator_; }
  torch::Device device() const override { return torch::kCPU; }

 private:
  int64_t top_, left_, size_;
  torch::Generator generator_ = at::detail::createCPUGenerator(0);
};

}  // namespace

TEST_CASE("images go to channels first and back unchanged in every layout", "[explain][frames]") {
  torch::Generator g = at::detail::createCPUGenerator(1);
  for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{{9, 7}, {9, 7, 3}, {3, 9, 7}, {2, 9, 7, 1}, {4, 9, 7, 3}}) {
    const Space space = Space::box(shape, 0, 255, DType::UInt8);
    const ImageLayout layout = *image_layout(space);
    std::vector<int64_t> batch_shape{5};
    batch_shape.insert(batch_shape.end(), shape.begin(), shape.end());
    const torch::Tensor x = torch::randint(0, 256, batch_shape, g, torch::kInt64).to(torch::kUInt8);
    INFO(space.describe());
    CHECK(torch::equal(from_channels_first(to_channels_first(x, layout), layout, x.sizes().slice(1)), x));
  }
}

TEST_CASE("a pixel policy's saliency lies where it reads the picture", "[explain][frames]") {
  VectorEnvConfig env;
  env.id = "CarRacing-v3";
  env.options = {{"observation_render", "fast"}};
  // The car sits in the middle of CarRacing's 96x96 frame, on the track; the top-left corner is
  // grass and sky-high track.
  PatchReader car(60, 42, 12), corner(4, 4, 12);
  FrameSaliencySettings settings;
  settings.max_frames = 12;
  settings.grid = 12;
  settings.gif_scale = 2;
  const fs::path dir = testing::fresh_dir("frame-saliency");
  const FrameSaliencyReport r = explain_frames(car, corner, env, settings, (dir / "saliency.gif").string());
  CHECK(r.frames == 12);
  CHECK(r.grid_rows == 12);
  // The most salient grid point is over the patch the policy reads: rows 60-71, columns 42-53 of
  // 96, that is grid cells 7-8 and 5-6 of 12 (8 pixels each).
  const auto top = std::max_element(r.mean_action.begin(), r.mean_action.end()) - r.mean_action.begin();
  CHECK(top / 12 >= 6);
  CHECK(top / 12 <= 9);
  CHECK(top % 12 >= 4);
  CHECK(top % 12 <= 7);
  CHECK(r.action_top_quarter_share > 0.9);
  // A policy reading elsewhere has other maps: the sanity check's correlation is low.
  CHECK(r.action_randomization_correlation < 0.5);
  // Integrated gradients of a mean over the patch: every attribution lies on the patch, and they
  // sum to f(x) - f(blurred x) exactly (the output is linear in the pixels).
  REQUIRE(r.mean_integrated_gradients.size() == 144);
  const auto ig_top = std::max_element(r.mean_integrated_gradients.begin(), r.mean_integrated_gradients.end()) -
                      r.mean_integrated_gradients.begin();
  CHECK(ig_top / 12 >= 7);
  CHECK(ig_top / 12 <= 8);
  CHECK(ig_top % 12 >= 5);
  CHECK(ig_top % 12 <= 6);
  CHECK(r.mean_integrated_gradients[0] == 0.0);
  CHECK(r.ig_completeness_error < 1e-3);

  const GifSummary gif = read_gif_summary((dir / "saliency.gif").string());
  CHECK(gif.frames == 12);
  CHECK(gif.width == 192);
  const std::vector<std::string> files = write_frame_saliency_report(r, dir.string());
  const YAML::Node yaml = YAML::LoadFile((dir / "explain.yaml").string());
  CHECK(yaml["mean_action_saliency"].size() == 12);
  CHECK(yaml["mean_action_saliency"][0].size() == 12);
  CHECK(yaml["sanity"]["action_randomization_correlation"].as<double>() == Approx(r.action_randomization_correlation));
  CHECK(fs::exists(dir / "saliency_mean_action.png"));
  CHECK(fs::exists(dir / "integrated_gradients_mean.png"));
  CHECK(yaml["integrated_gradients"]["baseline"].as<std::string>() == "blurred");
  settings.ig_baseline = "sepia";
  CHECK_THROWS_WITH(explain_frames(car, corner, env, settings, ""), Catch::Contains("expected blurred, zeros or mean"));

  VectorEnvConfig vector_env;
  vector_env.id = "CartPole-v1";
  CHECK_THROWS_WITH(explain_frames(car, corner, vector_env, settings, ""), Catch::Contains("explains image observations"));
}
