#pragma once
// The drawing both SDL canvases share: triangles, lines and text through an SDL_Renderer, which
// the offscreen canvas points at a memory surface and the window canvas at a window.

#include <string>

#include "rlforge/render/canvas.h"

struct SDL_Renderer;

namespace rlforge {

class SdlCanvas : public Canvas {
 public:
  TextSize measure_text(const std::string& text, int size) override;

 protected:
  SdlCanvas() = default;
  // The renderer to draw with; owned by the subclass.
  void use_renderer(SDL_Renderer* renderer);
  SDL_Renderer* renderer() const { return renderer_; }
  // Sets the draw colour, blending only where it is translucent.
  void use_colour(Color color);

  void draw_triangles(const std::vector<Point>& pixels, Color color) override;
  void draw_thin_line(Point a, Point b, Color color) override;
  void clear_pixels(Color color) override;
  void draw_text(Point top_left, const std::string& text, Color color, int size) override;

 private:
  SDL_Renderer* renderer_ = nullptr;
};

}  // namespace rlforge
