#include "fonts.h"

#include <SDL_ttf.h>

#include <cstdlib>
#include <map>
#include <stdexcept>

namespace rlforge {

namespace {
std::mutex mutex;

// Fonts by size, opened once and kept for the process's life (a handful of sizes at most). They
// are closed at exit, when the map goes: otherwise the fonts (and HarfBuzz's shaping caches
// inside them) become unreachable and LeakSanitizer reports them.
struct FontCache {
  std::map<int, TTF_Font*> by_size;
  bool started_ttf = false;  // TTF_Init was called here, so TTF_Quit is ours to call
  ~FontCache() {
    for (auto& entry : by_size) TTF_CloseFont(entry.second);
    if (started_ttf) TTF_Quit();
  }
};
FontCache cache;
std::map<int, TTF_Font*>& fonts = cache.by_size;
}  // namespace

std::unique_lock<std::mutex> font_lock() { return std::unique_lock<std::mutex>(mutex); }

std::string font_path() {
  const char* chosen = std::getenv("RLFORGE_FONT");
  if (chosen != nullptr && *chosen != '\0') return chosen;
  return "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
}

TTF_Font* font_of_size(int size) {
  if (size <= 0) throw std::invalid_argument("text size must be positive, got " + std::to_string(size));
  auto it = fonts.find(size);
  if (it != fonts.end()) return it->second;
  if (TTF_WasInit() == 0) {
    if (TTF_Init() != 0) throw std::runtime_error(std::string("cannot start SDL_ttf: ") + TTF_GetError());
    cache.started_ttf = true;
  }
  const std::string path = font_path();
  TTF_Font* font = TTF_OpenFont(path.c_str(), size);
  if (font == nullptr) {
    throw std::runtime_error("cannot load the font " + path + " (" + TTF_GetError() +
                             "); install fonts-dejavu-core or set RLFORGE_FONT to a TrueType file");
  }
  fonts.emplace(size, font);
  return font;
}

}  // namespace rlforge
