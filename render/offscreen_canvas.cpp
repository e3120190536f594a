#include "rlforge/render/offscreen_canvas.h"

#include <SDL.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace rlforge {

OffscreenCanvas::OffscreenCanvas(int width, int height) : width_(width), height_(height) {
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("canvas size must be positive, got " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
  surface_ = SDL_CreateRGBSurfaceWithFormat(0, width, height, 32, SDL_PIXELFORMAT_RGBA32);
  if (surface_ == nullptr) throw std::runtime_error(std::string("cannot create an SDL surface: ") + SDL_GetError());
  renderer_ = SDL_CreateSoftwareRenderer(surface_);
  if (renderer_ == nullptr) {
    SDL_FreeSurface(surface_);
    throw std::runtime_error(std::string("cannot create SDL's software renderer: ") + SDL_GetError());
  }
  SDL_SetRenderDrawBlendMode(renderer_, SDL_BLENDMODE_BLEND);
}

OffscreenCanvas::~OffscreenCanvas() {
  SDL_DestroyRenderer(renderer_);
  SDL_FreeSurface(surface_);
}

void OffscreenCanvas::clear_pixels(Color c) {
  SDL_SetRenderDrawColor(renderer_, c.r, c.g, c.b, c.a);
  SDL_RenderClear(renderer_);
}

void OffscreenCanvas::draw_triangles(const std::vector<Point>& pixels, Color c) {
  if (pixels.empty()) return;
  // SDL wants its own vertex records; a thread-local buffer avoids an allocation per call.
  thread_local std::vector<SDL_Vertex> vertices;
  vertices.resize(pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) {
    // Whole-pixel corners, as pygame draws Gymnasium's polygons. SDL's software renderer turns
    // triangle pairs that form an axis-aligned rectangle into a rectangle fill that truncates
    // position and size separately, so with fractional corners neighbouring shapes lose a column
    // between them.
    vertices[i].position = {std::round(static_cast<float>(pixels[i].x)), std::round(static_cast<float>(pixels[i].y))};
    vertices[i].color = {c.r, c.g, c.b, c.a};
    vertices[i].tex_coord = {0.0f, 0.0f};
  }
  SDL_RenderGeometry(renderer_, nullptr, vertices.data(), static_cast<int>(vertices.size()), nullptr, 0);
}

void OffscreenCanvas::draw_thin_line(Point a, Point b, Color c) {
  SDL_SetRenderDrawColor(renderer_, c.r, c.g, c.b, c.a);
  SDL_RenderDrawLineF(renderer_, static_cast<float>(a.x), static_cast<float>(a.y), static_cast<float>(b.x),
                      static_cast<float>(b.y));
}

void OffscreenCanvas::read_rgb(std::vector<uint8_t>& rgb) const {
  SDL_RenderFlush(renderer_);
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

}  // namespace rlforge
