#pragma once
// A canvas that draws into memory with SDL's software renderer: no display, no window system.
// Frames come out as packed RGB (height x width x 3 bytes, rows top to bottom).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/render/sdl_canvas.h"

struct SDL_Surface;

namespace rlforge {

class OffscreenCanvas final : public SdlCanvas {
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
  // Writes the frame to a PNG file (atomically: a temporary file, then a rename).
  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  SDL_Surface* surface_ = nullptr;
};

}  // namespace rlforge
