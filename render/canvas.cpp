#include "rlforge/render/canvas.h"

#include <algorithm>
#include <cmath>

namespace rlforge {

void Canvas::set_view(double x_min, double x_max, double y_min, double y_max) {
  y_up_ = true;
  scale_ = std::min(width() / (x_max - x_min), height() / (y_max - y_min));
  // Centre the rectangle: the spare world on each side is half of what the canvas has over.
  x_min_ = (x_min + x_max) / 2 - width() / scale_ / 2;
  y_min_ = (y_min + y_max) / 2 - height() / scale_ / 2;
}

Point Canvas::to_pixels(Point w) const {
  if (!y_up_) return w;
  return {(w.x - x_min_) * scale_, height() - (w.y - y_min_) * scale_};
}

void Canvas::clear(Color color) { clear_pixels(color); }

void Canvas::fill_polygon(const std::vector<Point>& points, Color color) {
  if (points.size() < 3) return;
  scratch_.clear();
  const Point first = to_pixels(points[0]);
  for (size_t i = 1; i + 1 < points.size(); ++i) {
    scratch_.push_back(first);
    scratch_.push_back(to_pixels(points[i]));
    scratch_.push_back(to_pixels(points[i + 1]));
  }
  draw_triangles(scratch_, color);
}

void Canvas::outline_polygon(const std::vector<Point>& points, Color color, double width) {
  for (size_t i = 0; i < points.size(); ++i) line(points[i], points[(i + 1) % points.size()], color, width);
}

void Canvas::line(Point a, Point b, Color color, double width) {
  // A quad `width` pixels wide around the segment.
  const Point pa = to_pixels(a), pb = to_pixels(b);
  // A one-pixel quad can fall between pixel centres and vanish; a rasterised line cannot.
  if (width <= 1.0) {
    draw_thin_line(pa, pb, color);
    return;
  }
  const double dx = pb.x - pa.x, dy = pb.y - pa.y;
  const double length = std::hypot(dx, dy);
  if (length == 0) return;
  const double nx = -dy / length * width / 2, ny = dx / length * width / 2;
  const Point q[4] = {{pa.x + nx, pa.y + ny}, {pb.x + nx, pb.y + ny}, {pb.x - nx, pb.y - ny}, {pa.x - nx, pa.y - ny}};
  draw_triangles({q[0], q[1], q[2], q[0], q[2], q[3]}, color);
}

void Canvas::fill_circle(Point center, double radius, Color color) {
  const Point c = to_pixels(center);
  const double r = radius * scale_;
  // Enough segments that the polygon's edge stays within a quarter pixel of the circle.
  const int segments = std::max(8, static_cast<int>(std::ceil(M_PI / std::acos(std::max(0.0, 1 - 0.25 / std::max(r, 0.25))))));
  scratch_.clear();
  for (int i = 0; i < segments; ++i) {
    const double a0 = 2 * M_PI * i / segments, a1 = 2 * M_PI * (i + 1) / segments;
    scratch_.push_back(c);
    scratch_.push_back({c.x + r * std::cos(a0), c.y + r * std::sin(a0)});
    scratch_.push_back({c.x + r * std::cos(a1), c.y + r * std::sin(a1)});
  }
  draw_triangles(scratch_, color);
}

void Canvas::text(Point pixel, const std::string& text, Color color, int size, HAlign h, VAlign v) {
  if (text.empty()) return;
  const TextSize box = measure_text(text, size);
  Point top_left = pixel;
  if (h == HAlign::Center) top_left.x -= box.width / 2.0;
  if (h == HAlign::Right) top_left.x -= box.width;
  if (v == VAlign::Middle) top_left.y -= box.height / 2.0;
  if (v == VAlign::Bottom) top_left.y -= box.height;
  draw_text(top_left, text, color, size);
}

}  // namespace rlforge
