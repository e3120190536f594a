#include "rlforge/render/charts.h"

#include <algorithm>
#include <cmath>

#include "rlforge/render/offscreen_canvas.h"
#include "rlforge/render/plot.h"

namespace rlforge {

namespace {

const Color kInk{40, 40, 40}, kGrid{225, 225, 225}, kPaper{255, 255, 255};

void fill_rect(Canvas& canvas, double x0, double y0, double x1, double y1, Color color) {
  canvas.fill_polygon({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, color);
}

}  // namespace

void draw_bar_chart(Canvas& canvas, const BarChartSpec& spec) {
  const double w = canvas.width(), h = canvas.height();
  canvas.set_view(0, w, 0, h);  // world units are pixels, y up; text() takes pixels, y down
  canvas.clear(kPaper);
  const int font = std::clamp(static_cast<int>(h / 32), 10, 16);
  const std::size_t n = std::min(spec.labels.size(), spec.values.size());
  const bool whiskers = spec.lower.size() >= n && spec.upper.size() >= n;
  double lo = 0, hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    lo = std::min(lo, spec.values[i]);
    hi = std::max(hi, spec.values[i]);
    if (whiskers && std::isfinite(spec.lower[i]) && std::isfinite(spec.upper[i])) {
      lo = std::min(lo, spec.lower[i]);
      hi = std::max(hi, spec.upper[i]);
    }
  }
  if (hi == lo) hi = lo + 1;
  const std::vector<double> ticks = nice_ticks(lo, hi, 6);
  lo = std::min(lo, ticks.front());
  hi = std::max(hi, ticks.back());
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  int label_width = 0;
  for (std::size_t i = 0; i < n; ++i) label_width = std::max(label_width, canvas.measure_text(spec.labels[i], font).width);
  const double left = label_width + font * 1.2, right = w - font * 1.5;
  const double top = h - font * 3.0, bottom = font * 3.2;
  if (right <= left + 10 || top <= bottom + 10 || n == 0) return;
  auto px = [&](double v) { return left + (v - lo) / (hi - lo) * (right - left); };
  double largest = 0;
  for (double t : ticks) largest = std::max(largest, std::abs(t));
  for (double t : ticks) {
    canvas.line({px(t), bottom}, {px(t), top}, kGrid);
    canvas.text({px(t), h - bottom + font * 0.3}, tick_label(t, step, largest), kInk, font, HAlign::Center, VAlign::Top);
  }
  const double slot = (top - bottom) / static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double y_mid = top - slot * (static_cast<double>(i) + 0.5);
    const double half = slot * 0.35;
    fill_rect(canvas, px(std::min(0.0, spec.values[i])), y_mid - half, px(std::max(0.0, spec.values[i])), y_mid + half,
              spec.color);
    if (whiskers && std::isfinite(spec.lower[i]) && std::isfinite(spec.upper[i])) {
      canvas.line({px(spec.lower[i]), y_mid}, {px(spec.upper[i]), y_mid}, kInk, 1.5);
      canvas.line({px(spec.lower[i]), y_mid - half * 0.5}, {px(spec.lower[i]), y_mid + half * 0.5}, kInk, 1.5);
      canvas.line({px(spec.upper[i]), y_mid - half * 0.5}, {px(spec.upper[i]), y_mid + half * 0.5}, kInk, 1.5);
    }
    canvas.text({left - font * 0.4, h - y_mid}, spec.labels[i], kInk, font, HAlign::Right, VAlign::Middle);
  }
  canvas.line({px(0), bottom}, {px(0), top}, kInk);
  canvas.text({w / 2, font * 0.5}, spec.title, kInk, font + 2, HAlign::Center, VAlign::Top);
  canvas.text({(left + right) / 2, h - font * 0.4}, spec.value_label, kInk, font, HAlign::Center, VAlign::Bottom);
}

void write_bar_chart_png(const BarChartSpec& spec, const std::string& path, int width, int height) {
  OffscreenCanvas canvas(width, height);
  draw_bar_chart(canvas, spec);
  canvas.save_png(path);
}

void draw_heatmap(Canvas& canvas, const HeatmapSpec& spec) {
  const double w = canvas.width(), h = canvas.height();
  canvas.set_view(0, w, 0, h);
  canvas.clear(kPaper);
  const int font = std::clamp(static_cast<int>(h / 30), 9, 14);
  const std::size_t rows = spec.rows.size();
  const std::size_t columns = rows > 0 ? spec.rows.front().size() : 0;
  if (rows == 0 || columns == 0) return;
  double largest = 0;
  for (const auto& row : spec.rows) {
    for (const double v : row) {
      if (std::isfinite(v)) largest = std::max(largest, std::abs(v));
    }
  }
  if (largest == 0) largest = 1;
  int label_width = 0;
  for (const std::string& l : spec.row_labels) label_width = std::max(label_width, canvas.measure_text(l, font).width);
  const double left = label_width + font * 1.0, right = w - font * 1.0;
  const double top = h - font * 2.6, bottom = font * 3.0;
  if (right <= left + 10 || top <= bottom + 10) return;
  const double cell_w = (right - left) / static_cast<double>(columns), cell_h = (top - bottom) / static_cast<double>(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const double y1 = top - cell_h * static_cast<double>(r), y0 = y1 - cell_h;
    for (std::size_t t = 0; t < std::min(columns, spec.rows[r].size()); ++t) {
      const double v = std::isfinite(spec.rows[r][t]) ? spec.rows[r][t] / largest : 0.0;
      const auto fade = static_cast<uint8_t>(std::lround(255.0 * (1.0 - std::min(1.0, std::abs(v)))));
      const Color c = v >= 0 ? Color{255, fade, fade} : Color{fade, fade, 255};
      fill_rect(canvas, left + cell_w * static_cast<double>(t), y0, left + cell_w * static_cast<double>(t + 1), y1, c);
    }
    if (r < spec.row_labels.size()) {
      canvas.text({left - font * 0.4, h - (y0 + y1) / 2}, spec.row_labels[r], kInk, font, HAlign::Right, VAlign::Middle);
    }
  }
  canvas.outline_polygon({{left, bottom}, {right, bottom}, {right, top}, {left, top}}, kInk);
  const std::vector<double> ticks = nice_ticks(0, static_cast<double>(columns), 8);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  for (const double t : ticks) {
    const double x = left + t * cell_w;
    canvas.text({x, h - bottom + font * 0.3}, tick_label(t, step, static_cast<double>(columns)), kInk, font,
                HAlign::Center, VAlign::Top);
  }
  canvas.text({w / 2, font * 0.4}, spec.title, kInk, font + 2, HAlign::Center, VAlign::Top);
  canvas.text({(left + right) / 2, h - font * 0.3}, spec.x_label, kInk, font, HAlign::Center, VAlign::Bottom);
}

void write_heatmap_png(const HeatmapSpec& spec, const std::string& path, int width, int height) {
  OffscreenCanvas canvas(width, height);
  draw_heatmap(canvas, spec);
  canvas.save_png(path);
}

}  // namespace rlforge
