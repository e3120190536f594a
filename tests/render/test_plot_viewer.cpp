// Plots have round ticks and draw what they are given; the viewer keys do what they say; a
// window opens and draws under SDL's dummy video driver (no display).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>

#include "rlforge/render/offscreen_canvas.h"
#include "rlforge/render/plot.h"
#include "rlforge/render/viewer.h"
#include "rlforge/render/window_canvas.h"

using namespace rlforge;

TEST_CASE("plot ticks are round numbers covering the range", "[render]") {
  CHECK(nice_ticks(0, 1'000'000, 5) == std::vector<double>{0, 200'000, 400'000, 600'000, 800'000, 1'000'000});
  CHECK(nice_ticks(-213.4, 287.9, 6) == std::vector<double>{-200, -100, 0, 100, 200});
  const std::vector<double> small = nice_ticks(0.1, 0.35, 5);
  const std::vector<double> expected = {0.1, 0.15, 0.2, 0.25, 0.3, 0.35};
  REQUIRE(small.size() == expected.size());
  for (size_t i = 0; i < small.size(); ++i) CHECK(small[i] == Approx(expected[i]));
  CHECK(tick_label(250'000, 50'000) == "250k");
  CHECK(tick_label(1'500'000, 500'000) == "1.5M");
  CHECK(tick_label(-0.25, 0.05) == "-0.25");
  CHECK(tick_label(40, 20) == "40");
}

TEST_CASE("a plot draws its axes, text and series", "[render]") {
  OffscreenCanvas canvas(400, 250);
  PlotSpec spec{"CartPole-v1", "env steps", "return", {}};
  draw_plot(canvas, spec);  // no data: still axes and labels
  auto colours = [&] {
    std::set<uint32_t> seen;
    const auto rgb = canvas.rgb();
    for (size_t i = 0; i < rgb.size(); i += 3) seen.insert(rgb[i] << 16 | rgb[i + 1] << 8 | rgb[i + 2]);
    return seen;
  };
  const auto empty = colours();
  CHECK(empty.size() > 5);  // grid, frame and anti-aliased text
  spec.series.push_back({"training", Color{31, 119, 180}, {0, 1000, 2000}, {10, 200, 500}, false, {}, {}});
  draw_plot(canvas, spec);
  CHECK(colours().count(31u << 16 | 119u << 8 | 180u) == 1);

  // A confidence band: the series' colour, translucent over white paper (alpha 56 of 255).
  auto has_shade = [&] {
    for (const uint32_t c : colours()) {
      const int r = static_cast<int>(c >> 16), g = static_cast<int>(c >> 8 & 255), b = static_cast<int>(c & 255);
      if (std::abs(r - 206) <= 2 && std::abs(g - 225) <= 2 && std::abs(b - 238) <= 2) return true;
    }
    return false;
  };
  CHECK_FALSE(has_shade());
  spec.series.back().lower = {0, 150, 450};
  spec.series.back().upper = {20, 250, 500};
  draw_plot(canvas, spec);
  CHECK(has_shade());
}

TEST_CASE("viewer keys pause, step, change speed, reset and quit", "[render]") {
  ViewerControls c(50);
  CHECK(c.take_step());
  c.press(Key::Space);
  CHECK(c.paused());
  CHECK_FALSE(c.take_step());
  c.press(Key::Right);
  CHECK(c.take_step());
  CHECK_FALSE(c.take_step());  // one step per press
  c.press(Key::Plus);
  CHECK(c.steps_per_second() == 100);
  c.press(Key::Minus);
  c.press(Key::Minus);
  CHECK(c.steps_per_second() == 25);
  c.press(Key::R);
  CHECK(c.take_reset());
  CHECK_FALSE(c.take_reset());
  CHECK_FALSE(c.quit());
  c.press(Key::Escape);
  CHECK(c.quit());
}

TEST_CASE("a window opens and draws with the dummy video driver", "[render]") {
  ::setenv("SDL_VIDEODRIVER", "dummy", 1);
  WindowCanvas window("test", 120, 80);
  CHECK(window.width() == 120);
  window.clear(Color{0, 0, 0});
  window.set_view(0, 12, 0, 8);
  window.fill_circle({6, 4}, 2, Color{255, 0, 0});
  draw_overlay(window, {"step 1", "return 0.0"});
  window.present();
  const WindowEvents events = window.poll_events();
  CHECK(events.pressed.empty());
  CHECK_FALSE(events.close_requested);
  CHECK_FALSE(window.is_held(Key::Left));
  CHECK_THROWS_WITH(WindowCanvas("test", 0, 10), Catch::Contains("window size must be positive"));
}

TEST_CASE("one axis's tick labels share their unit", "[render]") {
  CHECK(tick_label(200'000, 200'000, 1'000'000) == "0.2M");
  CHECK(tick_label(1'000'000, 200'000, 1'000'000) == "1.0M");
  CHECK(tick_label(20'000, 20'000, 100'000) == "20k");
}
