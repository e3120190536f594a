#pragma once
// Frames to and from files: PNG through SDL2_image, animated GIF through giflib. Every writer
// goes through a temporary file and a rename, so a killed process never leaves a broken file.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rlforge {

// Packed RGB rows, top to bottom.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

void write_png(const std::string& path, const Image& image);
// Any format SDL2_image reads (PNG, GIF's first frame, ...). Throws naming the file.
Image read_image(const std::string& path);

// An animated GIF that loops forever. Frames are quantised to 256 colours each (exactly, when a
// frame has no more; env drawings rarely do).
class GifWriter {
 public:
  // `frames_per_second` sets the delay between frames (GIF counts in hundredths of a second).
  GifWriter(const std::string& path, int width, int height, double frames_per_second);
  ~GifWriter();  // without finish(), removes the temporary file: no half-written GIF remains
  GifWriter(const GifWriter&) = delete;
  GifWriter& operator=(const GifWriter&) = delete;

  void add_frame(const uint8_t* rgb);
  // Closes the file and moves it into place.
  void finish();
  int frames() const { return frames_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  int frames_ = 0;
};

struct GifSummary {
  int width = 0, height = 0, frames = 0;
  int delay_centiseconds = 0;  // of the first frame
};
// Decodes the whole file with giflib; throws naming the file when it is not a readable GIF.
GifSummary read_gif_summary(const std::string& path);
// Every frame as shown (each drawn over the previous), for GIFs as GifWriter writes them.
std::vector<Image> read_gif_frames(const std::string& path);

// Where frames are recorded: an animated GIF (FILE.gif) or numbered PNG files in a directory
// (DIR/ or an existing directory: DIR/frame_000000.png, ...).
class FrameRecorder {
 public:
  virtual ~FrameRecorder() = default;
  virtual void add_frame(const uint8_t* rgb) = 0;
  virtual void finish() = 0;
  virtual int frames() const = 0;
};

// Checks `target` before any work: a known format, a size above zero, a directory that exists
// (or, for PNG frames, can be made) and can be written. Throws std::invalid_argument naming the
// target and what was expected.
std::unique_ptr<FrameRecorder> open_recorder(const std::string& target, int width, int height,
                                             double frames_per_second);

}  // namespace rlforge
