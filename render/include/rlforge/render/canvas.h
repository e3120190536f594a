#pragma once
// What environments draw on. An env's render(Canvas&) sets a view (which rectangle of its world
// the canvas shows) and draws shapes in world units; the canvas maps them to pixels. Envs never
// touch SDL: the same drawing goes to an offscreen RGB frame (tests, recordings, CarRacing's
// observation) or a window.

#include <cstdint>
#include <string>
#include <vector>

namespace rlforge {

struct Color {
  uint8_t r = 0, g = 0, b = 0, a = 255;
};

struct Point {
  double x = 0, y = 0;
};

// Where a text's anchor point sits on the text's box.
enum class HAlign { Left, Center, Right };
enum class VAlign { Top, Middle, Bottom };

struct TextSize {
  int width = 0, height = 0;
};

class Canvas {
 public:
  virtual ~Canvas() = default;

  virtual int width() const = 0;
  virtual int height() const = 0;

  // Shows the world rectangle [x_min, x_max] x [y_min, y_max], world y pointing up, as large as
  // the canvas allows without distortion and centred (a canvas of another aspect ratio shows
  // more of the world on two sides). The default view is pixel units with y down.
  void set_view(double x_min, double x_max, double y_min, double y_max);
  // Pixel coordinates of a world point under the current view.
  Point to_pixels(Point world) const;
  // Pixels per world unit.
  double scale() const { return scale_; }

  void clear(Color color);
  // A convex polygon (or any polygon whose vertices all see the first one), filled.
  void fill_polygon(const std::vector<Point>& points, Color color);
  // Closed outline of `points`, `width` pixels wide.
  void outline_polygon(const std::vector<Point>& points, Color color, double width = 1.0);
  void line(Point a, Point b, Color color, double width = 1.0);
  void fill_circle(Point center, double radius, Color color);  // radius in world units

  // Text `size` pixels tall at a pixel position (not world units: labels stay readable whatever
  // the view), anchored as `h` and `v` say. Drawn with DejaVu Sans (fonts-dejavu-core; the
  // RLFORGE_FONT variable names another TrueType file). Throws std::runtime_error naming the
  // font file when it cannot be loaded.
  void text(Point pixel, const std::string& text, Color color, int size = 14, HAlign h = HAlign::Left,
            VAlign v = VAlign::Top);
  // The pixel box `text` would take at `size`.
  virtual TextSize measure_text(const std::string& text, int size) = 0;

 protected:
  // Implementations draw triangles and one-pixel lines (pixel coordinates) and clear.
  virtual void draw_triangles(const std::vector<Point>& pixels, Color color) = 0;
  virtual void draw_thin_line(Point a, Point b, Color color) = 0;
  virtual void clear_pixels(Color color) = 0;
  // Text whose top-left corner is at `top_left` (pixels).
  virtual void draw_text(Point top_left, const std::string& text, Color color, int size) = 0;

 private:
  bool y_up_ = false;
  double x_min_ = 0, y_min_ = 0, scale_ = 1;
  std::vector<Point> scratch_;
};

}  // namespace rlforge
