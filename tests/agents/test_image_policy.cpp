// Image observations: every layout reaches the CNN as [B, C, H, W]; PPO's actor-critic keeps
// them as bytes until its CNN and refuses to normalise them.
#include <catch2/catch.hpp>

#include "rlforge/agents/actor_critic.h"
#include "rlforge/agents/networks.h"

using namespace rlforge;

namespace {
Space bytes(std::vector<int64_t> shape) { return Space::box(std::move(shape), 0.0f, 255.0f, DType::UInt8); }
}  // namespace

TEST_CASE("image layouts reach the CNN channels first", "[agents][cnn]") {
  CHECK_FALSE(image_layout(Space::box({4}, -1.0f, 1.0f)).has_value());
  CHECK_FALSE(image_layout(bytes({7})).has_value());

  // Stacked grayscale frames [k, H, W, 1] as FrameStack over GrayscaleObservation gives them.
  const auto stacked = image_layout(bytes({2, 40, 50, 1}));
  REQUIRE(stacked.has_value());
  CHECK(stacked->channels == 2);
  CHECK(stacked->height == 40);
  CHECK(stacked->width == 50);
  const torch::Tensor frames = torch::arange(2 * 2 * 40 * 50, torch::kInt64).reshape({2, 2, 40, 50, 1}).to(torch::kUInt8);
  const torch::Tensor chw = to_channels_first(frames, *stacked);
  CHECK(chw.sizes() == torch::IntArrayRef({2, 2, 40, 50}));
  CHECK(chw[1][1][3][4].item<int>() == frames[1][1][3][4][0].item<int>());

  // Colour frames [H, W, 3] (the envs' own renders), one-channel [H, W], and [C, H, W].
  const auto rgb = image_layout(bytes({96, 96, 3}));
  REQUIRE(rgb.has_value());
  const torch::Tensor image = torch::randint(0, 256, {1, 96, 96, 3}, torch::kInt64).to(torch::kUInt8);
  CHECK(to_channels_first(image, *rgb)[0][2][10][20].item<int>() == image[0][10][20][2].item<int>());
  CHECK(image_layout(bytes({36, 36}))->channels == 1);
  CHECK(image_layout(bytes({4, 84, 84}))->channels == 4);
}

TEST_CASE("the actor-critic reads images through one shared CNN", "[agents][cnn]") {
  ActorCriticConfig config;
  config.actor.hidden = config.critic.hidden = {32};
  config.cnn_features = 64;
  ActorCritic policy(bytes({2, 64, 64, 1}), Space::discrete(5), config);
  CHECK(policy->image());
  CHECK_FALSE(policy->manual_gradient_supported());
  CHECK(policy->feature_shape() == std::vector<int64_t>{2, 64, 64});
  CHECK(policy->feature_dtype() == torch::kUInt8);
  const torch::Tensor frames = torch::randint(0, 256, {3, 2, 64, 64, 1}, torch::kInt64).to(torch::kUInt8);
  const torch::Tensor features = policy->prepare(frames, true);
  CHECK(features.scalar_type() == torch::kUInt8);  // rollouts store bytes
  CHECK(features.sizes() == torch::IntArrayRef({3, 2, 64, 64}));
  const auto evaluation = policy->evaluate(features, torch::zeros({3}, torch::kInt64));
  CHECK(evaluation.value.sizes() == torch::IntArrayRef({3}));
  // Both heads' gradients reach the one CNN.
  (evaluation.log_prob.sum() + evaluation.value.sum()).backward();
  for (const auto& p : policy->named_parameters()) {
    if (p.key().rfind("cnn.", 0) == 0) {
      INFO(p.key());
      CHECK(p.value().grad().defined());
    }
  }
  CHECK(policy->named_parameters().contains("cnn.0.weight"));

  config.normalize_observation = true;
  CHECK_THROWS_WITH(ActorCritic(bytes({64, 64, 3}), Space::discrete(5), config),
                    Catch::Contains("normalize_observation applies to vector observations"));
}
