#pragma once
// Resizing packed uint8 images (rows top to bottom, `channels` bytes per pixel) by area
// averaging: each output pixel is the mean of the input pixels it covers, weighted by the
// overlap, as OpenCV's INTER_AREA (Gymnasium's ResizeObservation) and pygame's smoothscale
// (CarRacing's observation) shrink. An axis that grows is interpolated bilinearly.
//
// The weights are integers over a per-axis denominator, so the sums are exact and only the
// final rounding differs between the libraries; it is chosen per resizer.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rlforge {

class ImageResizer {
 public:
  enum class Rounding {
    kNearestEven,  // OpenCV's INTER_AREA
    kHalfUp,       // OpenCV's 2x2 box average (halving both ways)
    kDown,         // pygame's smoothscale, whose fixed-point arithmetic truncates
  };
  // Throws std::invalid_argument for a size below 1.
  ImageResizer(int in_height, int in_width, int out_height, int out_width, int channels, Rounding rounding);

  // `in` holds in_height x in_width x channels bytes, `out` out_height x out_width x channels.
  void resize(const uint8_t* in, uint8_t* out);

  std::size_t in_bytes() const { return in_height_ * in_width_ * channels_; }
  std::size_t out_bytes() const { return rows_.size() * cols_.size() * channels_; }

 private:
  // Output pixel j of an axis reads input pixels index[begin[j]] ... index[begin[j + 1] - 1]
  // with integer weights over `denominator` (flat arrays: the inner loops stay in cache).
  struct Axis {
    std::vector<std::size_t> begin, index;
    std::vector<int32_t> weight;
    int64_t denominator = 1;
    std::size_t size() const { return begin.size() - 1; }
  };
  static Axis make_axis(int64_t in, int64_t out);

  Axis rows_, cols_;
  std::size_t in_height_, in_width_, channels_;
  Rounding rounding_;
  std::vector<int64_t> row_sums_;   // one output row's sums
  std::vector<int32_t> col_pass_;  // [in_height, out_width, channels]: at most 255 x in_width
};

}  // namespace rlforge
