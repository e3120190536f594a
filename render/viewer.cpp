#include "rlforge/render/viewer.h"

#include <algorithm>
#include <utility>

namespace rlforge {

namespace {
constexpr double kSlowest = 0.5, kFastest = 4096;  // steps per second
}

ViewerControls::ViewerControls(double steps_per_second)
    : steps_per_second_(std::clamp(steps_per_second, kSlowest, kFastest)) {}

void ViewerControls::press(Key key) {
  switch (key) {
    case Key::Space: paused_ = !paused_; break;
    case Key::Right: step_once_ = paused_; break;
    case Key::Plus: steps_per_second_ = std::min(kFastest, steps_per_second_ * 2); break;
    case Key::Minus: steps_per_second_ = std::max(kSlowest, steps_per_second_ / 2); break;
    case Key::R: reset_ = true; break;
    case Key::Q:
    case Key::Escape: quit_ = true; break;
    default: break;
  }
}

bool ViewerControls::take_reset() { return std::exchange(reset_, false); }

bool ViewerControls::take_step() {
  if (!paused_) return true;
  return std::exchange(step_once_, false);
}

void draw_overlay(Canvas& canvas, const std::vector<std::string>& lines, int text_size) {
  if (lines.empty()) return;
  int width = 0, height = 0;
  for (const std::string& line : lines) {
    const TextSize box = canvas.measure_text(line, text_size);
    width = std::max(width, box.width);
    height += box.height;
  }
  const double pad = 4;
  // The overlay is in pixels whatever view the env set: draw the box with a pixel-unit view.
  canvas.set_view(0, canvas.width(), 0, canvas.height());
  const double top = canvas.height();
  canvas.fill_polygon({{0, top}, {width + 2 * pad, top}, {width + 2 * pad, top - height - 2 * pad}, {0, top - height - 2 * pad}},
                      Color{0, 0, 0, 150});
  double y = pad;
  for (const std::string& line : lines) {
    canvas.text({pad, y}, line, Color{255, 255, 255}, text_size);
    y += canvas.measure_text(line, text_size).height;
  }
}

}  // namespace rlforge
