#include "rlforge/render/window_canvas.h"

#include <SDL.h>

#include <string>

namespace rlforge {

namespace {

Key key_of(SDL_Keycode code) {
  switch (code) {
    case SDLK_SPACE: return Key::Space;
    case SDLK_LEFT: return Key::Left;
    case SDLK_RIGHT: return Key::Right;
    case SDLK_UP: return Key::Up;
    case SDLK_DOWN: return Key::Down;
    case SDLK_PLUS:
    case SDLK_EQUALS:  // + without shift on most layouts
    case SDLK_KP_PLUS: return Key::Plus;
    case SDLK_MINUS:
    case SDLK_KP_MINUS: return Key::Minus;
    case SDLK_r: return Key::R;
    case SDLK_q: return Key::Q;
    case SDLK_ESCAPE: return Key::Escape;
    default: return Key::Other;
  }
}

SDL_Scancode scancode_of(Key key) {
  switch (key) {
    case Key::Space: return SDL_SCANCODE_SPACE;
    case Key::Left: return SDL_SCANCODE_LEFT;
    case Key::Right: return SDL_SCANCODE_RIGHT;
    case Key::Up: return SDL_SCANCODE_UP;
    case Key::Down: return SDL_SCANCODE_DOWN;
    case Key::Plus: return SDL_SCANCODE_EQUALS;
    case Key::Minus: return SDL_SCANCODE_MINUS;
    case Key::R: return SDL_SCANCODE_R;
    case Key::Q: return SDL_SCANCODE_Q;
    case Key::Escape: return SDL_SCANCODE_ESCAPE;
    default: return SDL_SCANCODE_UNKNOWN;
  }
}

}  // namespace

WindowCanvas::WindowCanvas(const std::string& title, int width, int height) : width_(width), height_(height) {
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("window size must be positive, got " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
#ifdef __linux__
  // No X11 or Wayland server named: say so before SDL probes for one (its Wayland probe prints
  // to stderr on its own).
  const auto unset = [](const char* name) { return SDL_getenv(name) == nullptr || *SDL_getenv(name) == '\0'; };
  if (unset("DISPLAY") && unset("WAYLAND_DISPLAY") && unset("SDL_VIDEODRIVER")) {
    throw DisplayUnavailable("no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set)");
  }
#endif
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    throw DisplayUnavailable(std::string("no display to open a window on (SDL: ") + SDL_GetError() + ")");
  }
  // Without a display SDL falls back to drivers that draw nowhere; a viewer on one would run
  // unseen, so only take them when asked for by name (as the tests do with SDL_VIDEODRIVER=dummy).
  const std::string driver = SDL_GetCurrentVideoDriver() != nullptr ? SDL_GetCurrentVideoDriver() : "";
  const char* asked = SDL_getenv("SDL_VIDEODRIVER");
  if ((driver == "offscreen" || driver == "dummy") && (asked == nullptr || driver != asked)) {
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    throw DisplayUnavailable("no display to open a window on (no X11 or Wayland server; SDL found only its '" + driver +
                             "' driver)");
  }
  window_ = SDL_CreateWindow(title.c_str(), SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, width, height, 0);
  if (window_ == nullptr) {
    const std::string why = SDL_GetError();
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    throw DisplayUnavailable("cannot open a window (SDL: " + why + ")");
  }
  SDL_Renderer* renderer = SDL_CreateRenderer(window_, -1, SDL_RENDERER_PRESENTVSYNC);
  if (renderer == nullptr) renderer = SDL_CreateRenderer(window_, -1, SDL_RENDERER_SOFTWARE);
  if (renderer == nullptr) {
    const std::string why = SDL_GetError();
    SDL_DestroyWindow(window_);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    throw DisplayUnavailable("cannot draw in a window (SDL: " + why + ")");
  }
  use_renderer(renderer);
}

WindowCanvas::~WindowCanvas() {
  SDL_DestroyRenderer(renderer());
  SDL_DestroyWindow(window_);
  SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

void WindowCanvas::present() { SDL_RenderPresent(renderer()); }

WindowEvents WindowCanvas::poll_events() {
  WindowEvents events;
  SDL_Event e;
  while (SDL_PollEvent(&e) != 0) {
    if (e.type == SDL_QUIT) events.close_requested = true;
    if (e.type == SDL_KEYDOWN && e.key.repeat == 0) events.pressed.push_back(key_of(e.key.keysym.sym));
  }
  return events;
}

bool WindowCanvas::is_held(Key key) const {
  const SDL_Scancode code = scancode_of(key);
  if (code == SDL_SCANCODE_UNKNOWN) return false;
  return SDL_GetKeyboardState(nullptr)[code] != 0;
}

}  // namespace rlforge
