// The offscreen canvas draws where it is told, and every env that renders gives a real picture,
// the same one for the same state, without a display.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "rlforge/envs/registry.h"
#include "rlforge/render/offscreen_canvas.h"

using namespace rlforge;

namespace {
std::array<uint8_t, 3> pixel(const std::vector<uint8_t>& rgb, int width, int x, int y) {
  const size_t i = (static_cast<size_t>(y) * width + x) * 3;
  return {rgb[i], rgb[i + 1], rgb[i + 2]};
}

uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}
}  // namespace

TEST_CASE("the offscreen canvas fills exactly the shapes it is given", "[render]") {
  OffscreenCanvas canvas(40, 30);
  canvas.clear(Color{255, 255, 255});
  // World view: x in [0, 4] over 40 px (10 px per unit), y up from 0.
  canvas.set_view(0, 4, 0, 3);
  canvas.fill_polygon({{1, 1}, {3, 1}, {3, 2}, {1, 2}}, Color{255, 0, 0});
  const auto rgb = canvas.rgb();
  REQUIRE(rgb.size() == 40u * 30u * 3u);
  // World (2, 1.5) is pixel (20, 30 - 15): red. The corners of the canvas stay white.
  CHECK(pixel(rgb, 40, 20, 15) == std::array<uint8_t, 3>{255, 0, 0});
  CHECK(pixel(rgb, 40, 2, 2) == std::array<uint8_t, 3>{255, 255, 255});
  CHECK(pixel(rgb, 40, 35, 25) == std::array<uint8_t, 3>{255, 255, 255});
  // y points up: world y 1..2 is pixel rows 10..20, so row 5 is above the box.
  CHECK(pixel(rgb, 40, 20, 5) == std::array<uint8_t, 3>{255, 255, 255});
  canvas.fill_circle({2, 2.5}, 0.3, Color{0, 0, 255});
  CHECK(pixel(canvas.rgb(), 40, 20, 5) == std::array<uint8_t, 3>{0, 0, 255});
  // A view of another aspect ratio is centred without distortion: [0, 1] x [0, 1] on 40 x 30
  // is 30 px per unit, with 5 spare pixels left and right.
  canvas.set_view(0, 1, 0, 1);
  CHECK(canvas.scale() == Approx(30));
  CHECK(canvas.to_pixels({0, 0}).x == Approx(5));
  CHECK(canvas.to_pixels({0, 0}).y == Approx(30));
  CHECK(canvas.to_pixels({1, 1}).x == Approx(35));
  CHECK_THROWS_WITH(OffscreenCanvas(0, 10), Catch::Contains("canvas size must be positive, got 0x10"));
}

TEST_CASE("every env that renders draws a picture, the same for the same state", "[render]") {
  for (const std::string& id : env_registry().ids()) {
    auto env = make_env(id);
    if (!env->can_render()) continue;
    INFO(id);
    std::vector<uint8_t> obs(env->spec().observation_space.byte_size());
    env->reset(5, obs.data());
    OffscreenCanvas canvas(300, 200);
    env->render(canvas);
    const auto first = canvas.rgb();
    CHECK(first.size() == 300u * 200u * 3u);
    std::set<uint32_t> colours;
    for (size_t i = 0; i < first.size(); i += 3) colours.insert(first[i] << 16 | first[i + 1] << 8 | first[i + 2]);
    CHECK(colours.size() >= 3);  // background and at least two kinds of things drawn
    // The same seed again, on a fresh canvas: the same image, byte for byte.
    auto again = make_env(id);
    again->reset(5, obs.data());
    OffscreenCanvas other(300, 200);
    again->render(other);
    CHECK(fnv1a(other.rgb()) == fnv1a(first));
    // And a different state looks different.
    again->reset(6, obs.data());
    for (int i = 0; i < 5; ++i) {
      std::vector<uint8_t> action(env->spec().action_space.byte_size(), 0);
      if (again->step(ActionRef{action.data(), env->spec().action_space.dtype(), env->spec().action_space.size()},
                      obs.data()).terminated) {
        break;
      }
    }
    again->render(other);
    CHECK(fnv1a(other.rgb()) != fnv1a(first));
  }
}

TEST_CASE("rendering LunarLander before its first reset is a clear error", "[render]") {
  auto env = make_env("LunarLander-v3");
  OffscreenCanvas canvas(60, 40);
  CHECK_THROWS_WITH(env->render(canvas), Catch::Contains("render() before the first reset"));
}
