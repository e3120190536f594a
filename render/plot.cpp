#include "rlforge/render/plot.h"

#include "rlforge/render/offscreen_canvas.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace rlforge {

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo) || target < 1) return {lo};
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  // Whole multiples of the step, computed afresh each (a running sum would drift).
  std::vector<double> ticks;
  const auto first = static_cast<int64_t>(std::ceil(lo / step - 1e-9));
  const auto last = static_cast<int64_t>(std::floor(hi / step + 1e-9));
  for (int64_t k = first; k <= last; ++k) ticks.push_back(static_cast<double>(k) * step);
  return ticks;
}

std::string tick_label(double value, double step, double largest) {
  double scale = 1;
  const char* suffix = "";
  const double span = std::max({std::abs(value), step, std::abs(largest)});
  if (span >= 1e6) scale = 1e6, suffix = "M";
  else if (span >= 1e4) scale = 1e3, suffix = "k";
  const double scaled_step = step / scale;
  const int decimals = scaled_step >= 1 ? 0 : std::min(6, static_cast<int>(std::ceil(-std::log10(scaled_step) - 1e-9)));
  char text[64];
  std::snprintf(text, sizeof text, "%.*f%s", decimals, value / scale, suffix);
  return text;
}

namespace {

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // An empty or zero-width range still needs an axis.
  void widen() {
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi == lo) lo -= 1, hi += 1;
  }
};

// Labels of one axis share their unit (k or M), chosen by its largest tick.
double axis_largest(const std::vector<double>& ticks) {
  double largest = 0;
  for (double t : ticks) largest = std::max(largest, std::abs(t));
  return largest;
}

const Color kInk{40, 40, 40}, kGrid{225, 225, 225}, kPaper{255, 255, 255};

bool has_band(const PlotSeries& s, size_t i) {
  return i < s.lower.size() && i < s.upper.size() && std::isfinite(s.lower[i]) && std::isfinite(s.upper[i]);
}

}  // namespace

void draw_plot(Canvas& canvas, const PlotSpec& spec) {
  const double w = canvas.width(), h = canvas.height();
  // World units are pixels here, y up; text() takes pixel positions, y down.
  canvas.set_view(0, w, 0, h);
  canvas.clear(kPaper);
  const int font = std::clamp(static_cast<int>(h / 32), 10, 16);

  Range xr, yr;
  for (const PlotSeries& s : spec.series) {
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xr.add(s.x[i]);
      yr.add(s.y[i]);
      if (has_band(s, i)) {
        yr.add(s.lower[i]);
        yr.add(s.upper[i]);
      }
    }
  }
  xr.widen();
  yr.widen();
  const std::vector<double> y_ticks = nice_ticks(yr.lo, yr.hi, 6);
  const std::vector<double> x_ticks = nice_ticks(xr.lo, xr.hi, 6);
  // Axes span the ticks too, so the outermost gridlines sit inside the frame.
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  yr.lo = std::min(yr.lo, y_ticks.front()), yr.hi = std::max(yr.hi, y_ticks.back());
  xr.lo = std::min(xr.lo, x_ticks.front()), xr.hi = std::max(xr.hi, x_ticks.back());

  const double y_largest = axis_largest(y_ticks), x_largest = axis_largest(x_ticks);
  int label_width = 0;
  for (double t : y_ticks) label_width = std::max(label_width, canvas.measure_text(tick_label(t, y_step, y_largest), font).width);
  const double left = label_width + font * 2.5, right = w - font * 1.2;
  const double top = h - font * 3.4, bottom = font * 3.6;  // world y of the plot area's edges
  if (right <= left + 10 || top <= bottom + 10) return;  // too small to draw anything useful
  auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * (right - left); };
  auto py = [&](double y) { return bottom + (y - yr.lo) / (yr.hi - yr.lo) * (top - bottom); };

  for (double t : y_ticks) {
    canvas.line({left, py(t)}, {right, py(t)}, kGrid);
    canvas.text({left - font * 0.4, h - py(t)}, tick_label(t, y_step, y_largest), kInk, font, HAlign::Right, VAlign::Middle);
  }
  for (double t : x_ticks) {
    canvas.line({px(t), bottom}, {px(t), top}, kGrid);
    canvas.text({px(t), h - bottom + font * 0.3}, tick_label(t, x_step, x_largest), kInk, font, HAlign::Center, VAlign::Top);
  }
  canvas.outline_polygon({{left, bottom}, {right, bottom}, {right, top}, {left, top}}, kInk);
  canvas.text({w / 2, font * 0.5}, spec.title, kInk, font + 2, HAlign::Center, VAlign::Top);
  canvas.text({(left + right) / 2, h - font * 0.4}, spec.x_label, kInk, font, HAlign::Center, VAlign::Bottom);
  canvas.text({font * 0.4, h - top - font * 1.5}, spec.y_label, kInk, font, HAlign::Left, VAlign::Top);

  // Bands first, translucent, so that every line stays visible over them.
  for (const PlotSeries& s : spec.series) {
    const Color shade{s.color.r, s.color.g, s.color.b, 56};
    for (size_t i = 0; i + 1 < std::min(s.x.size(), s.y.size()); ++i) {
      if (!has_band(s, i) || !has_band(s, i + 1) || !std::isfinite(s.x[i]) || !std::isfinite(s.x[i + 1])) continue;
      canvas.fill_polygon({{px(s.x[i]), py(s.lower[i])},
                           {px(s.x[i + 1]), py(s.lower[i + 1])},
                           {px(s.x[i + 1]), py(s.upper[i + 1])},
                           {px(s.x[i]), py(s.upper[i])}},
                          shade);
    }
  }
  for (const PlotSeries& s : spec.series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    bool have_previous = false;
    Point previous;
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        have_previous = false;
        continue;
      }
      const Point p{px(s.x[i]), py(s.y[i])};
      if (have_previous) canvas.line(previous, p, s.color, 2.0);
      if (s.markers) canvas.fill_circle(p, 3.0, s.color);
      previous = p;
      have_previous = true;
    }
  }

  // Legend in the lower-right corner of the plot area, where rising curves rarely are.
  std::vector<const PlotSeries*> named;
  int legend_width = 0;
  for (const PlotSeries& s : spec.series) {
    if (s.name.empty()) continue;
    named.push_back(&s);
    legend_width = std::max(legend_width, canvas.measure_text(s.name, font).width);
  }
  if (named.empty()) return;
  const double row = font * 1.4, swatch = font * 1.6, pad = font * 0.5;
  const double box_w = pad * 3 + swatch + legend_width, box_h = pad * 2 + row * static_cast<double>(named.size());
  const double bx = right - box_w - pad, by = bottom + pad;
  canvas.fill_polygon({{bx, by}, {bx + box_w, by}, {bx + box_w, by + box_h}, {bx, by + box_h}}, Color{255, 255, 255, 230});
  canvas.outline_polygon({{bx, by}, {bx + box_w, by}, {bx + box_w, by + box_h}, {bx, by + box_h}}, kGrid);
  for (size_t i = 0; i < named.size(); ++i) {
    const double cy = by + box_h - pad - row * (static_cast<double>(i) + 0.5);
    canvas.line({bx + pad, cy}, {bx + pad + swatch, cy}, named[i]->color, 2.0);
    if (named[i]->markers) canvas.fill_circle({bx + pad + swatch / 2, cy}, 3.0, named[i]->color);
    canvas.text({bx + pad * 2 + swatch, h - cy}, named[i]->name, kInk, font, HAlign::Left, VAlign::Middle);
  }
}

void write_plot_png(const PlotSpec& spec, const std::string& path, int width, int height) {
  OffscreenCanvas canvas(width, height);
  draw_plot(canvas, spec);
  canvas.save_png(path);
}

}  // namespace rlforge
