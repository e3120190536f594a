// GrayscaleObservation and ResizeObservation against values worked out by hand (and, where a
// resize has many pixels, against a direct two-dimensional area integration), and composed on
// CarRacing's pixels.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rlforge/envs/box2d/car_racing.h"
#include "rlforge/envs/conformance.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/rng.h"
#include "rlforge/envs/wrappers.h"

#include "env_test_helpers.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

using Bytes = std::vector<uint8_t>;

// An env whose every observation is one fixed uint8 image.
class ImageEnv final : public Env {
 public:
  ImageEnv(std::vector<int64_t> shape, Bytes image)
      : Env(make_spec(std::move(shape))), image_(std::move(image)) {
    REQUIRE(image_.size() == spec().observation_space.size());
  }

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override { write(obs); }
  StepResult step_impl(const void*, void* obs) override {
    write(obs);
    return {0.0, false, false};
  }

 private:
  static EnvSpec make_spec(std::vector<int64_t> shape) {
    EnvSpec spec;
    spec.id = "Image-v0";
    spec.observation_space = Space::box(std::move(shape), 0.0f, 255.0f, DType::UInt8);
    spec.action_space = Space::discrete(2);
    return spec;
  }
  void write(void* obs) const { std::copy(image_.begin(), image_.end(), static_cast<uint8_t*>(obs)); }
  Bytes image_;
};

std::unique_ptr<Env> image_env(std::vector<int64_t> shape, Bytes image) {
  return std::make_unique<ImageEnv>(std::move(shape), std::move(image));
}

// The first observation of `env` after reset (and checks that a step gives the same one, the
// inner image being fixed).
Bytes first_obs(Env& env) {
  Bytes obs(env.spec().observation_space.byte_size());
  env.reset(0, obs.data());
  Bytes again(obs.size());
  env.step(int64_t{0}, again.data());
  CHECK(again == obs);
  return obs;
}

Space image_space(std::vector<int64_t> shape) {
  return Space::box(std::move(shape), 0.0f, 255.0f, DType::UInt8);
}

// Area resampling computed directly, in two dimensions and exactly: in units of 1/oh of an input
// row and 1/ow of an input column, input pixel (y, x) spans [y oh, (y+1) oh) x [x ow, (x+1) ow),
// output pixel (i, j) spans [i h, (i+1) h) x [j w, (j+1) w), so overlaps are whole numbers and
// the mean is their weighted sum over h w. Halves round to even, or up when halving both ways
// (what OpenCV does).
Bytes area_reference(const Bytes& in, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow) {
  const auto overlap = [](int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
    return std::max<int64_t>(0, std::min(a1, b1) - std::max(a0, b0));
  };
  const bool halves_up = h == 2 * oh && w == 2 * ow;
  Bytes out(static_cast<std::size_t>(oh * ow * c));
  for (int64_t i = 0; i < oh; ++i) {
    for (int64_t j = 0; j < ow; ++j) {
      for (int64_t k = 0; k < c; ++k) {
        int64_t sum = 0;
        for (int64_t y = 0; y < h; ++y) {
          const int64_t dy = overlap(y * oh, (y + 1) * oh, i * h, (i + 1) * h);
          for (int64_t x = 0; x < w && dy > 0; ++x) {
            const int64_t dx = overlap(x * ow, (x + 1) * ow, j * w, (j + 1) * w);
            sum += dy * dx * in[static_cast<std::size_t>((y * w + x) * c + k)];
          }
        }
        const int64_t area = h * w, q = sum / area, twice_rest = 2 * (sum % area);
        const bool up = twice_rest > area || (twice_rest == area && (halves_up || q % 2 == 1));
        out[static_cast<std::size_t>((i * ow + j) * c + k)] = static_cast<uint8_t>(q + up);
      }
    }
  }
  return out;
}

}  // namespace

// ---- GrayscaleObservation ----

TEST_CASE("GrayscaleObservation uses Gymnasium's luminance weights and truncates",
          "[wrappers][grayscale]") {
  // floor(0.2125 R + 0.7154 G + 0.0721 B): 117.645 -> 117; white sums to 255.00000000000003 and
  // stays 255; (1, 1, 1) to 1; pure blue 18.3855 -> 18 (NumPy's astype gives the same bytes).
  const Bytes rgb{200, 100, 50, 255, 255, 255, 1, 1, 1, 0, 0, 255};
  GrayscaleObservation env(image_env({2, 2, 3}, rgb));
  CHECK(env.spec().observation_space == image_space({2, 2, 1}));
  CHECK(first_obs(env) == Bytes{117, 255, 1, 18});

  GrayscaleObservation flat(image_env({2, 2, 3}, rgb), /*keep_dim=*/false);
  CHECK(flat.spec().observation_space == image_space({2, 2}));
  CHECK(first_obs(flat) == Bytes{117, 255, 1, 18});
  CHECK(flat.id() == "Image-v0");
}

TEST_CASE("GrayscaleObservation refuses what is not a uint8 RGB image", "[wrappers][grayscale]") {
  const std::string cartpole = error_of([] { GrayscaleObservation(make_env("CartPole-v1")); });
  CHECK_THAT(cartpole, Catch::Contains("GrayscaleObservation needs a uint8 Box observation space") &&
                           Catch::Contains("CartPole-v1 has Box(") && Catch::Contains("float32"));
  CHECK(cartpole.find('\n') == std::string::npos);
  CHECK_THAT(error_of([] { GrayscaleObservation(image_env({2, 2, 4}, Bytes(16))); }),
             Catch::Contains("(H, W, 3)") && Catch::Contains("(2, 2, 4)"));
  CHECK_THROWS_AS(GrayscaleObservation(image_env({2, 3}, Bytes(6))), EnvError);
  CHECK_THROWS_AS(GrayscaleObservation(image_env({1, 2, 2, 3}, Bytes(12))), EnvError);
}

// ---- ResizeObservation ----

TEST_CASE("ResizeObservation averages the pixels each output pixel covers", "[wrappers][resize]") {
  SECTION("a constant image stays constant (96 -> 64, a factor 1.5)") {
    ResizeObservation env(image_env({96, 96, 3}, Bytes(96 * 96 * 3, 173)), 64, 64);
    CHECK(env.spec().observation_space == image_space({64, 64, 3}));
    CHECK(first_obs(env) == Bytes(64 * 64 * 3, 173));
  }
  SECTION("2x2 -> 1x1 is the mean") {
    ResizeObservation mean(image_env({2, 2}, {10, 20, 30, 41}), 1, 1);  // 25.25
    CHECK(first_obs(mean) == Bytes{25});
  }
  SECTION("halves round as OpenCV's: up when halving both ways, else to even") {
    ResizeObservation box(image_env({2, 2}, {1, 2, 3, 4}), 1, 1);  // 2.5
    CHECK(first_obs(box) == Bytes{3});
    ResizeObservation row(image_env({1, 2}, {2, 3}), 1, 1);  // 2.5
    CHECK(first_obs(row) == Bytes{2});
    Bytes block(16, 2);
    block[0] = 10;  // 40 / 16 = 2.5
    ResizeObservation down(image_env({4, 4}, block), 1, 1);
    CHECK(first_obs(down) == Bytes{2});
    block.assign(16, 3);
    block[0] = 11;  // 56 / 16 = 3.5
    ResizeObservation up(image_env({4, 4}, block), 1, 1);
    CHECK(first_obs(up) == Bytes{4});
  }
  SECTION("3 -> 2 weighs the pixel split between two outputs by its overlap") {
    // Output 0 covers input 0 and the first half of input 1: (2*0 + 30) / 3 = 10;
    // output 1: (30 + 2*90) / 3 = 70.
    ResizeObservation row(image_env({1, 3}, {0, 30, 90}), 1, 2);
    CHECK(first_obs(row) == Bytes{10, 70});
    // In two dimensions the weights multiply: top left (4*10 + 2*20 + 2*40 + 50) / 9 = 23.3,
    // top right 330 / 9 = 36.7, bottom left 570 / 9 = 63.3, bottom right 690 / 9 = 76.7.
    ResizeObservation grid(image_env({3, 3}, {10, 20, 30, 40, 50, 60, 70, 80, 90}), 2, 2);
    CHECK(first_obs(grid) == Bytes{23, 37, 63, 77});
  }
  SECTION("random images match a direct two-dimensional area integration") {
    Rng rng(5);
    Bytes image(96 * 96 * 3);
    for (auto& b : image) b = static_cast<uint8_t>(rng.below(256));
    ResizeObservation env(image_env({96, 96, 3}, image), 64, 64);
    CHECK(first_obs(env) == area_reference(image, 96, 96, 3, 64, 64));
    // Uneven factors, ties (8/7 gives many), halving both ways; channels kept apart.
    for (const auto& [oh, ow] :
         {std::pair{35, 50}, std::pair{84, 84}, std::pair{48, 48}, std::pair{48, 32}}) {
      ResizeObservation resized(image_env({96, 96, 3}, image), oh, ow);
      INFO(oh << "x" << ow);
      CHECK(first_obs(resized) == area_reference(image, 96, 96, 3, oh, ow));
    }
  }
}

TEST_CASE("ResizeObservation shapes, channels and enlarging", "[wrappers][resize]") {
  // Channel 0 constant 10, channel 1 constant 200: they stay apart.
  Bytes two_channels(4 * 6 * 2);
  for (std::size_t p = 0; p < 24; ++p) {
    two_channels[2 * p] = 10;
    two_channels[2 * p + 1] = 200;
  }
  ResizeObservation with_channels(image_env({4, 6, 2}, two_channels), 2, 3);
  CHECK(with_channels.spec().observation_space == image_space({2, 3, 2}));
  CHECK(first_obs(with_channels) == Bytes{10, 200, 10, 200, 10, 200, 10, 200, 10, 200, 10, 200});

  ResizeObservation without(image_env({4, 6}, Bytes(24, 7)), 2, 3);
  CHECK(without.spec().observation_space == image_space({2, 3}));
  CHECK(first_obs(without) == Bytes(6, 7));

  // Enlarging is bilinear between pixel centres, clamped at the edges (OpenCV's INTER_LINEAR
  // gives these bytes; its INTER_AREA would give 0, 0, 100, 100).
  ResizeObservation wider(image_env({1, 2}, {0, 100}), 1, 4);
  CHECK(first_obs(wider) == Bytes{0, 25, 75, 100});
  ResizeObservation same(image_env({2, 3}, {1, 2, 3, 4, 5, 6}), 2, 3);
  CHECK(first_obs(same) == Bytes{1, 2, 3, 4, 5, 6});
}

TEST_CASE("ResizeObservation refusals", "[wrappers][resize]") {
  const std::string cartpole = error_of([] { ResizeObservation(make_env("CartPole-v1"), 64, 64); });
  CHECK_THAT(cartpole, Catch::Contains("ResizeObservation needs a uint8 Box observation space") &&
                           Catch::Contains("CartPole-v1 has Box("));
  CHECK(cartpole.find('\n') == std::string::npos);
  CHECK_THAT(error_of([] { ResizeObservation(image_env({6}, Bytes(6)), 2, 2); }),
             Catch::Contains("(H, W) or (H, W, C)") && Catch::Contains("(6,)"));
  CHECK_THROWS_AS(ResizeObservation(image_env({1, 2, 2, 3}, Bytes(12)), 2, 2), EnvError);
  CHECK_THAT(error_of([] { ResizeObservation(image_env({4, 4}, Bytes(16)), 0, 2); }),
             Catch::Contains("ResizeObservation needs height > 0 and width > 0") &&
                 Catch::Contains("height 0 and width 2"));
  CHECK_THROWS_AS(ResizeObservation(image_env({4, 4}, Bytes(16)), 2, -1), EnvError);
}

// ---- on CarRacing ----

namespace {

std::unique_ptr<Env> small_gray_stack(std::unique_ptr<Env> env) {
  env = std::make_unique<GrayscaleObservation>(std::move(env));
  env = std::make_unique<ResizeObservation>(std::move(env), 64, 64);
  return std::make_unique<FrameStack>(std::move(env), 2);
}

}  // namespace

TEST_CASE("Grayscale, Resize and FrameStack compose on CarRacing-v3", "[wrappers][car_racing]") {
  auto env = small_gray_stack(make_env("CarRacing-v3"));
  const Space& space = env->spec().observation_space;
  CHECK(space == image_space({2, 64, 64, 1}));
  CHECK(dynamic_cast<CarRacing*>(&env->unwrapped()) != nullptr);
  CHECK(env->spec().max_episode_steps == 1000);

  // The newest frame is the grey, resized twin frame; the older one the frame before.
  auto twin = std::make_unique<ResizeObservation>(
      std::make_unique<GrayscaleObservation>(make_env("CarRacing-v3")), 64, 64);
  Bytes obs(space.byte_size()), frame(64 * 64), previous;
  env->reset(3, obs.data());
  twin->reset(3, frame.data());
  CHECK(space.contains(obs.data()));
  CHECK(Bytes(obs.begin(), obs.begin() + 4096) == frame);
  CHECK(Bytes(obs.begin() + 4096, obs.end()) == frame);
  const auto [darkest, brightest] = std::minmax_element(frame.begin(), frame.end());
  CHECK(*darkest < *brightest);  // not a blank picture
  for (int t = 0; t < 30; ++t) {
    previous = frame;
    const std::vector<float> action{0.3f * static_cast<float>(t % 3 - 1), 0.5f, 0.0f};
    env->step(action, obs.data());
    twin->step(action, frame.data());
    CHECK(space.contains(obs.data()));
  }
  CHECK(Bytes(obs.begin(), obs.begin() + 4096) == previous);
  CHECK(Bytes(obs.begin() + 4096, obs.end()) == frame);
  CHECK(previous != frame);
}

TEST_CASE("the image wrappers keep the Env contract on CarRacing-v3", "[wrappers][car_racing]") {
  EnvRegistry registry;
  // Under the id the wrapped env reports, in a registry of the test's own.
  // The fast observation drawing: the contract does not depend on it, and 300 random steps of
  // conformance checks would take seconds with Gymnasium's.
  registry.add({"CarRacing-v3", "CarRacing, grey, 64x64, two frames", {},
                [](const ResolvedOptions&) {
                  return small_gray_stack(make_env("CarRacing-v3", {{"observation_render", std::string("fast")}}));
                }});
  ConformanceSettings settings;
  settings.random_steps = 300;
  const auto checks = check_env_conformance(registry, "CarRacing-v3", {}, settings);
  REQUIRE_FALSE(checks.empty());
  for (const auto& c : checks) {
    INFO(c.property << ": " << c.detail);
    CHECK(c.passed);
  }
}

// ---- by name ----

TEST_CASE("wrap_env builds the image wrappers by name", "[wrappers][byname]") {
  const auto names = wrapper_names();
  CHECK(std::count(names.begin(), names.end(), "GrayscaleObservation") == 1);
  CHECK(std::count(names.begin(), names.end(), "ResizeObservation") == 1);

  const Bytes rgb(4 * 6 * 3, 100);
  auto gray = wrap_env(image_env({4, 6, 3}, rgb), {"GrayscaleObservation", {}});
  CHECK(gray->spec().observation_space == image_space({4, 6, 1}));
  auto flat = wrap_env(image_env({4, 6, 3}, rgb), {"GrayscaleObservation", {{"keep_dim", false}}});
  CHECK(flat->spec().observation_space == image_space({4, 6}));
  auto flat_text = wrap_env(image_env({4, 6, 3}, rgb),
                            {"GrayscaleObservation", {{"keep_dim", std::string("false")}}});
  CHECK(flat_text->spec().observation_space == image_space({4, 6}));

  auto resized = wrap_env(image_env({4, 6, 3}, rgb),
                          {"ResizeObservation", {{"height", int64_t{2}}, {"width", std::string("3")}}});
  CHECK(resized->spec().observation_space == image_space({2, 3, 3}));
  CHECK(first_obs(*resized) == Bytes(18, 100));

  const auto options = wrapper_options("ResizeObservation");
  REQUIRE(options.size() == 2);
  CHECK(options[0].name == "height");
  CHECK(options[1].name == "width");
  REQUIRE(wrapper_options("GrayscaleObservation").size() == 1);
  CHECK(wrapper_options("GrayscaleObservation")[0].name == "keep_dim");

  // Sizes must be given; a float env is refused with the wrapper's name.
  CHECK_THROWS_WITH(wrap_env(image_env({4, 6}, Bytes(24)), {"ResizeObservation", {}}),
                    Catch::Contains("ResizeObservation needs height > 0 and width > 0"));
  CHECK_THROWS_WITH(wrap_env(make_env("CartPole-v1"), {"GrayscaleObservation", {}}),
                    Catch::Contains("GrayscaleObservation") && Catch::Contains("CartPole-v1"));
  CHECK_THROWS_WITH(wrap_env(make_env("CartPole-v1"),
                             {"ResizeObservation", {{"height", int64_t{8}}, {"width", int64_t{8}}}}),
                    Catch::Contains("ResizeObservation") && Catch::Contains("CartPole-v1"));
  CHECK_THAT(error_of([] {
               wrap_env(image_env({4, 6}, Bytes(24)), {"ResizeObservation", {{"size", int64_t{8}}}});
             }),
             Catch::Contains("'size'") && Catch::Contains("height, width"));
}
