#pragma once
// A canvas on a window, for watching an env live. Needs a display (or SDL_VIDEODRIVER=dummy,
// which the tests use); without one the constructor throws DisplayUnavailable.

#include <stdexcept>
#include <string>
#include <vector>

#include "rlforge/render/sdl_canvas.h"
#include "rlforge/render/viewer.h"

struct SDL_Window;

namespace rlforge {

class DisplayUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WindowEvents {
  std::vector<Key> pressed;
  bool close_requested = false;  // the window's close button
};

class WindowCanvas final : public SdlCanvas {
 public:
  WindowCanvas(const std::string& title, int width, int height);
  ~WindowCanvas() override;
  WindowCanvas(const WindowCanvas&) = delete;
  WindowCanvas& operator=(const WindowCanvas&) = delete;

  int width() const override { return width_; }
  int height() const override { return height_; }

  // Shows what was drawn since the last present().
  void present();
  // Keys pressed since the last call, and whether the window was closed.
  WindowEvents poll_events();
  // Whether `key` is held down now (for driving an env from the keyboard).
  bool is_held(Key key) const;

 private:
  int width_, height_;
  SDL_Window* window_ = nullptr;
};

}  // namespace rlforge
