#include "rlforge/render/image_files.h"

#include <SDL.h>
#include <SDL_image.h>
#include <gif_lib.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace rlforge {

namespace {

void check_size(int width, int height) {
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("image size must be positive, got " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
}

// Beside the target, so that the final rename stays on one file system.
std::string temporary_path(const std::string& path) { return path + ".tmp" + std::to_string(::getpid()); }

void move_into_place(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot move " + tmp + " to " + path + ": " + ec.message());
  }
}

}  // namespace

void write_png(const std::string& path, const Image& image) {
  check_size(image.width, image.height);
  if (image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
    throw std::invalid_argument("write_png: " + path + ": the pixel buffer does not hold width x height x 3 bytes");
  }
  SDL_Surface* surface = SDL_CreateRGBSurfaceWithFormatFrom(const_cast<uint8_t*>(image.rgb.data()), image.width,
                                                            image.height, 24, image.width * 3, SDL_PIXELFORMAT_RGB24);
  if (surface == nullptr) throw std::runtime_error(std::string("cannot wrap a frame in an SDL surface: ") + SDL_GetError());
  const std::string tmp = temporary_path(path);
  const int status = IMG_SavePNG(surface, tmp.c_str());
  SDL_FreeSurface(surface);
  if (status != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + path + ": " + IMG_GetError());
  }
  move_into_place(tmp, path);
}

Image read_image(const std::string& path) {
  SDL_Surface* loaded = IMG_Load(path.c_str());
  if (loaded == nullptr) throw std::runtime_error("cannot read the image " + path + ": " + IMG_GetError());
  SDL_Surface* rgb = SDL_ConvertSurfaceFormat(loaded, SDL_PIXELFORMAT_RGB24, 0);
  SDL_FreeSurface(loaded);
  if (rgb == nullptr) throw std::runtime_error("cannot convert the image " + path + ": " + SDL_GetError());
  Image image{rgb->w, rgb->h, {}};
  image.rgb.resize(static_cast<size_t>(rgb->w) * rgb->h * 3);
  for (int y = 0; y < rgb->h; ++y) {
    std::copy_n(static_cast<const uint8_t*>(rgb->pixels) + static_cast<size_t>(y) * rgb->pitch, rgb->w * 3,
                image.rgb.data() + static_cast<size_t>(y) * rgb->w * 3);
  }
  SDL_FreeSurface(rgb);
  return image;
}

// ---------------------------------------------------------------------------------------------
// GIF

namespace {

std::string gif_error(int code) {
  const char* text = GifErrorString(code);
  return text != nullptr ? text : "giflib error " + std::to_string(code);
}

// Colour -> palette index for frames with at most 256 colours: an open-addressing table, far
// cheaper per pixel than a general map.
class ExactPalette {
 public:
  // False when the pixels hold more than 256 colours.
  bool build(const uint8_t* rgb, size_t pixels, std::vector<GifByteType>& indices) {
    keys_.fill(0);
    colors_.clear();
    indices.resize(pixels);
    for (size_t i = 0; i < pixels; ++i) {
      const uint32_t key = (uint32_t{rgb[3 * i]} << 16 | uint32_t{rgb[3 * i + 1]} << 8 | rgb[3 * i + 2]) + 1;
      size_t slot = (key * 2654435761u) >> (32 - kBits);
      while (keys_[slot] != 0 && keys_[slot] != key) slot = (slot + 1) & (kSlots - 1);
      if (keys_[slot] == 0) {
        if (colors_.size() == 256) return false;
        keys_[slot] = key;
        values_[slot] = static_cast<GifByteType>(colors_.size());
        colors_.push_back({rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]});
      }
      indices[i] = values_[slot];
    }
    return true;
  }
  const std::vector<GifColorType>& colors() const { return colors_; }

 private:
  static constexpr int kBits = 10;
  static constexpr size_t kSlots = size_t{1} << kBits;
  std::array<uint32_t, kSlots> keys_{};
  std::array<GifByteType, kSlots> values_{};
  std::vector<GifColorType> colors_;
};

}  // namespace

struct GifWriter::State {
  std::string path, tmp;
  GifFileType* gif = nullptr;
  int width = 0, height = 0, delay = 2;
  std::vector<uint8_t> previous;  // the last frame given, to encode only what changed
  uint8_t corner[3] = {0, 0, 0};  // the colour a viewer shows at (0, 0), quantised
  std::vector<uint8_t> patch;     // RGB of the changed rectangle
  std::vector<GifByteType> indices, red, green, blue;
  ExactPalette palette;

  void close_and_discard() {
    if (gif == nullptr) return;
    int error = 0;
    EGifCloseFile(gif, &error);
    gif = nullptr;
    std::error_code ec;
    fs::remove(tmp, ec);
  }
  void check(int status, const char* what) {
    if (status == GIF_OK) return;
    const int code = gif->Error;
    close_and_discard();
    throw std::runtime_error("cannot write " + path + " (" + what + "): " + gif_error(code));
  }
};

GifWriter::GifWriter(const std::string& path, int width, int height, double frames_per_second)
    : state_(std::make_unique<State>()) {
  check_size(width, height);
  if (!(frames_per_second > 0)) {
    throw std::invalid_argument("frames per second must be positive, got " + std::to_string(frames_per_second));
  }
  State& s = *state_;
  s.path = path;
  s.tmp = temporary_path(path);
  s.width = width;
  s.height = height;
  // Browsers slow down GIFs with delays under 2/100 s, so 50 frames/s is the fastest honest rate.
  s.delay = std::max(2, static_cast<int>(std::lround(100.0 / frames_per_second)));
  // Opened here rather than by giflib, which would make the file readable by its owner only.
  const int fd = ::open(s.tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  int error = 0;
  s.gif = EGifOpenFileHandle(fd, &error);
  if (s.gif == nullptr) {
    ::close(fd);
    std::error_code ec;
    fs::remove(s.tmp, ec);
    throw std::runtime_error("cannot write " + path + ": " + gif_error(error));
  }
  EGifSetGifVersion(s.gif, true);
  s.check(EGifPutScreenDesc(s.gif, width, height, 8, 0, nullptr), "screen");
  // The Netscape extension makes viewers loop the animation.
  s.check(EGifPutExtensionLeader(s.gif, APPLICATION_EXT_FUNC_CODE), "loop");
  s.check(EGifPutExtensionBlock(s.gif, 11, "NETSCAPE2.0"), "loop");
  const GifByteType forever[3] = {1, 0, 0};
  s.check(EGifPutExtensionBlock(s.gif, 3, forever), "loop");
  s.check(EGifPutExtensionTrailer(s.gif), "loop");
}

GifWriter::~GifWriter() { state_->close_and_discard(); }

void GifWriter::add_frame(const uint8_t* rgb) {
  State& s = *state_;
  if (s.gif == nullptr) throw std::logic_error("GifWriter: add_frame after finish");
  const int w = s.width, h = s.height;
  const size_t row_bytes = static_cast<size_t>(w) * 3;
  // The rectangle that changed since the previous frame (the whole frame at first).
  int x0 = 0, y0 = 0, x1 = w, y1 = h;
  if (!s.previous.empty()) {
    x0 = w, y0 = h, x1 = 0, y1 = 0;
    for (int y = 0; y < h; ++y) {
      const uint8_t* a = rgb + y * row_bytes;
      const uint8_t* b = s.previous.data() + y * row_bytes;
      if (std::equal(a, a + row_bytes, b)) continue;
      y0 = std::min(y0, y);
      y1 = y + 1;
      int first = 0, last = w - 1;
      while (first < w && std::equal(a + 3 * first, a + 3 * first + 3, b + 3 * first)) ++first;
      while (last > first && std::equal(a + 3 * last, a + 3 * last + 3, b + 3 * last)) --last;
      x0 = std::min(x0, first);
      x1 = std::max(x1, last + 1);
    }
    if (y1 == 0) x0 = 0, y0 = 0, x1 = 1, y1 = 1;  // unchanged: one pixel keeps the frame's delay
  }
  const bool unchanged = !s.previous.empty() && y1 == 1 && x1 == 1 && std::equal(rgb, rgb + 3, s.previous.data());
  const int pw = x1 - x0, ph = y1 - y0;
  s.patch.resize(static_cast<size_t>(pw) * ph * 3);
  for (int y = 0; y < ph; ++y) {
    std::copy_n(rgb + (y0 + y) * row_bytes + 3 * x0, pw * 3, s.patch.data() + static_cast<size_t>(y) * pw * 3);
  }
  s.previous.assign(rgb, rgb + row_bytes * h);
  // An unchanged frame repeats the pixel as shown, which after quantisation may differ from
  // the pixel as given.
  if (unchanged) std::copy_n(s.corner, 3, s.patch.data());

  const size_t pixels = static_cast<size_t>(pw) * ph;
  std::vector<GifColorType> colors;
  if (s.palette.build(s.patch.data(), pixels, s.indices)) {
    colors = s.palette.colors();
  } else {
    s.red.resize(pixels), s.green.resize(pixels), s.blue.resize(pixels);
    for (size_t i = 0; i < pixels; ++i) {
      s.red[i] = s.patch[3 * i], s.green[i] = s.patch[3 * i + 1], s.blue[i] = s.patch[3 * i + 2];
    }
    int count = 256;
    colors.resize(256);
    s.indices.resize(pixels);
    if (GifQuantizeBuffer(static_cast<unsigned>(pw), static_cast<unsigned>(ph), &count, s.red.data(), s.green.data(),
                          s.blue.data(), s.indices.data(), colors.data()) != GIF_OK) {
      throw std::runtime_error("cannot write " + s.path + ": colour quantisation failed");
    }
    colors.resize(static_cast<size_t>(count));
  }
  // A colour map holds a power of two entries, at least 2.
  int map_size = 2;
  while (map_size < static_cast<int>(colors.size())) map_size *= 2;
  colors.resize(static_cast<size_t>(map_size), GifColorType{0, 0, 0});
  if (x0 == 0 && y0 == 0) {
    const GifColorType& shown = colors[s.indices[0]];
    s.corner[0] = shown.Red, s.corner[1] = shown.Green, s.corner[2] = shown.Blue;
  }
  ColorMapObject* map = GifMakeMapObject(map_size, colors.data());
  if (map == nullptr) throw std::runtime_error("cannot write " + s.path + ": out of memory");

  GraphicsControlBlock control{};
  control.DisposalMode = DISPOSE_DO_NOT;  // later patches draw over this frame
  control.UserInputFlag = false;
  control.DelayTime = s.delay;
  control.TransparentColor = NO_TRANSPARENT_COLOR;
  GifByteType extension[4];
  EGifGCBToExtension(&control, extension);
  int status = EGifPutExtension(s.gif, GRAPHICS_EXT_FUNC_CODE, 4, extension);
  if (status == GIF_OK) status = EGifPutImageDesc(s.gif, x0, y0, pw, ph, false, map);
  GifFreeMapObject(map);
  s.check(status, "frame");
  s.check(EGifPutLine(s.gif, s.indices.data(), static_cast<int>(pixels)), "pixels");
  ++frames_;
}

void GifWriter::finish() {
  State& s = *state_;
  if (s.gif == nullptr) return;
  int error = 0;
  const int status = EGifCloseFile(s.gif, &error);
  s.gif = nullptr;
  if (status != GIF_OK) {
    std::error_code ec;
    fs::remove(s.tmp, ec);
    throw std::runtime_error("cannot write " + s.path + ": " + gif_error(error));
  }
  move_into_place(s.tmp, s.path);
}

namespace {

struct GifCloser {
  void operator()(GifFileType* gif) const {
    int error = 0;
    DGifCloseFile(gif, &error);
  }
};
using DecodedGif = std::unique_ptr<GifFileType, GifCloser>;

// The whole file decoded into memory; throws naming the file.
DecodedGif decode_gif(const std::string& path) {
  int error = 0;
  DecodedGif gif(DGifOpenFileName(path.c_str(), &error));
  if (gif == nullptr) throw std::runtime_error("cannot read the GIF " + path + ": " + gif_error(error));
  // The screen size comes from the header: a damaged one must not make the reader allocate
  // gigabytes (found by fuzz_gif: a 200-byte file asked for a 30464x24832 canvas). rlforge
  // records at window sizes, far below this.
  constexpr int64_t kMaxPixels = int64_t{1} << 24;  // 4096 x 4096
  if (int64_t{gif->SWidth} * gif->SHeight > kMaxPixels) {
    throw std::runtime_error("cannot read the GIF " + path + ": its screen of " + std::to_string(gif->SWidth) + "x" +
                             std::to_string(gif->SHeight) + " is larger than the 4096x4096 pixels rlforge reads");
  }
  if (DGifSlurp(gif.get()) != GIF_OK) throw std::runtime_error("cannot decode the GIF " + path + ": " + gif_error(gif->Error));
  return gif;
}

}  // namespace

GifSummary read_gif_summary(const std::string& path) {
  const DecodedGif gif = decode_gif(path);
  GifSummary summary{gif->SWidth, gif->SHeight, gif->ImageCount, 0};
  GraphicsControlBlock control{};
  if (gif->ImageCount > 0 && DGifSavedExtensionToGCB(gif.get(), 0, &control) == GIF_OK) {
    summary.delay_centiseconds = control.DelayTime;
  }
  return summary;
}

std::vector<Image> read_gif_frames(const std::string& path) {
  const DecodedGif gif = decode_gif(path);
  // Every frame is kept whole: refuse what would not fit in memory rather than fail inside.
  constexpr int64_t kMaxBytes = int64_t{1} << 32;
  const int64_t frame_bytes = int64_t{gif->SWidth} * gif->SHeight * 3;
  if (frame_bytes * gif->ImageCount > kMaxBytes) {
    throw std::runtime_error("cannot read the GIF " + path + ": its " + std::to_string(gif->ImageCount) + " frames of " +
                             std::to_string(gif->SWidth) + "x" + std::to_string(gif->SHeight) +
                             " would take more than 4 GiB decoded");
  }
  std::vector<Image> frames;
  Image canvas{gif->SWidth, gif->SHeight, std::vector<uint8_t>(static_cast<size_t>(gif->SWidth) * gif->SHeight * 3, 0)};
  for (int i = 0; i < gif->ImageCount; ++i) {
    const SavedImage& image = gif->SavedImages[i];
    const GifImageDesc& d = image.ImageDesc;
    const ColorMapObject* map = d.ColorMap != nullptr ? d.ColorMap : gif->SColorMap;
    if (map == nullptr || d.Left + d.Width > canvas.width || d.Top + d.Height > canvas.height || d.Interlace) {
      throw std::runtime_error("cannot decode the GIF " + path + ": frame " + std::to_string(i) + " is not of the kind rlforge writes");
    }
    // Each frame draws over the previous one (rlforge writes only 'do not dispose' frames).
    for (int y = 0; y < d.Height; ++y) {
      for (int x = 0; x < d.Width; ++x) {
        const int index = image.RasterBits[static_cast<size_t>(y) * d.Width + x];
        // A damaged file can name a colour past the end of its map (found by fuzzing).
        if (index >= map->ColorCount) {
          throw std::runtime_error("cannot decode the GIF " + path + ": frame " + std::to_string(i) + " uses colour " +
                                   std::to_string(index) + " of a " + std::to_string(map->ColorCount) + "-colour map");
        }
        const GifColorType c = map->Colors[index];
        uint8_t* p = &canvas.rgb[(static_cast<size_t>(d.Top + y) * canvas.width + d.Left + x) * 3];
        p[0] = c.Red, p[1] = c.Green, p[2] = c.Blue;
      }
    }
    frames.push_back(canvas);
  }
  return frames;
}

// ---------------------------------------------------------------------------------------------
// Recorders

namespace {

class GifRecorder final : public FrameRecorder {
 public:
  GifRecorder(const std::string& path, int width, int height, double fps) : writer_(path, width, height, fps) {}
  void add_frame(const uint8_t* rgb) override { writer_.add_frame(rgb); }
  void finish() override { writer_.finish(); }
  int frames() const override { return writer_.frames(); }

 private:
  GifWriter writer_;
};

class PngDirectoryRecorder final : public FrameRecorder {
 public:
  PngDirectoryRecorder(std::string dir, int width, int height) : dir_(std::move(dir)), width_(width), height_(height) {}
  void add_frame(const uint8_t* rgb) override {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%06d.png", frames_);
    write_png((fs::path(dir_) / name).string(),
              Image{width_, height_, std::vector<uint8_t>(rgb, rgb + static_cast<size_t>(width_) * height_ * 3)});
    ++frames_;
  }
  void finish() override {}
  int frames() const override { return frames_; }

 private:
  std::string dir_;
  int width_, height_;
  int frames_ = 0;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::unique_ptr<FrameRecorder> open_recorder(const std::string& target, int width, int height,
                                             double frames_per_second) {
  if (target.empty()) throw std::invalid_argument("no output given: expected FILE.gif or DIR/ (PNG frames)");
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("size must be positive, got " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (!(frames_per_second > 0)) {
    throw std::invalid_argument("frames per second must be positive, got " + std::to_string(frames_per_second));
  }
  const fs::path path(target);
  std::error_code ec;
  if (target.back() == '/' || fs::is_directory(path, ec)) {
    fs::create_directories(path, ec);
    if (ec) throw std::invalid_argument(target + ": cannot create this directory: " + ec.message());
    // Probe: a directory we cannot write would otherwise fail only at the first frame.
    const fs::path probe = path / (".rlforge-probe" + std::to_string(::getpid()));
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    if (f == nullptr) throw std::invalid_argument(target + ": this directory cannot be written");
    std::fclose(f);
    fs::remove(probe, ec);
    return std::make_unique<PngDirectoryRecorder>(target, width, height);
  }
  const std::string extension = lower(path.extension().string());
  if (extension != ".gif") {
    throw std::invalid_argument(target + ": unknown format '" + (extension.empty() ? target : extension) +
                                "'; expected FILE.gif (animated GIF) or DIR/ (numbered PNG frames)");
  }
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) throw std::invalid_argument(target + ": the directory " + parent.string() + " does not exist");
  try {
    return std::make_unique<GifRecorder>(target, width, height, frames_per_second);  // opens the file now
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
}

}  // namespace rlforge
