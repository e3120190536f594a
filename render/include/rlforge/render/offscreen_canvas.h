#pragma once
// A canvas that draws into memory with SDL's software renderer: no display, no window system.
// Frames come out as packed RGB (height x width x 3 bytes, rows top to bottom).

#include <cstdint>
#include <memory>
#include <vector>

#include "rlforge/render/canvas.h"

struct SDL_Surface;
struct SDL_Renderer;

namespace rlforge {

class OffscreenCanvas final : public Canvas {
 public:
  // Throws std::runtime_error with SDL's message when the surface or renderer cannot be made.
  OffscreenCanvas(int width, int height);
  ~OffscreenCanvas() override;
  OffscreenCanvas(const OffscreenCanvas&) = delete;
  OffscreenCanvas& operator=(const OffscreenCanvas&) = delete;

  int width() const override { return width_; }
  int height() const override { return height_; }

  // The current frame as RGB bytes, into `rgb` (resized to width * height * 3).
  void read_rgb(std::vector<uint8_t>& rgb) const;
  std::vector<uint8_t> rgb() const;

 protected:
  void draw_triangles(const std::vector<Point>& pixels, Color color) override;
  void draw_thin_line(Point a, Point b, Color color) override;
  void clear_pixels(Color color) override;

 private:
  int width_, height_;
  SDL_Surface* surface_ = nullptr;
  SDL_Renderer* renderer_ = nullptr;
};

}  // namespace rlforge
