#pragma once
// The font text is drawn with, loaded once per pixel size. SDL_ttf is not thread-safe, so every
// use holds font_lock().

#include <mutex>
#include <string>

typedef struct _TTF_Font TTF_Font;

namespace rlforge {

std::unique_lock<std::mutex> font_lock();
// DejaVu Sans, or the file named by RLFORGE_FONT. Throws std::runtime_error naming the file when
// it cannot be opened. Call with font_lock() held.
TTF_Font* font_of_size(int size);
// The file font_of_size() opens.
std::string font_path();

}  // namespace rlforge
