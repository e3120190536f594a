#include "rlforge/render/offscreen_canvas.h"

#include <SDL.h>

#include <stdexcept>
#include <string>

#include "rlforge/render/image_files.h"

namespace rlforge {

OffscreenCanvas::OffscreenCanvas(int width, int height) : width_(width), height_(height) {
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("canvas size must be positive, got " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
  surface_ = SDL_CreateRGBSurfaceWithFormat(0, width, height, 32, SDL_PIXELFORMAT_RGBA32);
  if (surface_ == nullptr) throw std::runtime_error(std::string("cannot create an SDL surface: ") + SDL_GetError());
  SDL_Renderer* renderer = SDL_CreateSoftwareRenderer(surface_);
  if (renderer == nullptr) {
    SDL_FreeSurface(surface_);
    throw std::runtime_error(std::string("cannot create SDL's software renderer: ") + SDL_GetError());
  }
  use_renderer(renderer);
}

OffscreenCanvas::~OffscreenCanvas() {
  SDL_DestroyRenderer(renderer());
  SDL_FreeSurface(surface_);
}

void OffscreenCanvas::read_rgb(std::vector<uint8_t>& rgb) const {
  SDL_RenderFlush(renderer());
  rgb.resize(static_cast<size_t>(width_) * height_ * 3);
  const auto* base = static_cast<const uint8_t*>(surface_->pixels);
  for (int y = 0; y < height_; ++y) {
    const uint8_t* row = base + static_cast<size_t>(y) * surface_->pitch;
    uint8_t* out = rgb.data() + static_cast<size_t>(y) * width_ * 3;
    for (int x = 0; x < width_; ++x) {
      out[3 * x] = row[4 * x];
      out[3 * x + 1] = row[4 * x + 1];
      out[3 * x + 2] = row[4 * x + 2];
    }
  }
}

std::vector<uint8_t> OffscreenCanvas::rgb() const {
  std::vector<uint8_t> out;
  read_rgb(out);
  return out;
}

void OffscreenCanvas::save_png(const std::string& path) const { write_png(path, Image{width_, height_, rgb()}); }

}  // namespace rlforge
