#include "rlforge/envs/image_resize.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rlforge {

ImageResizer::ImageResizer(int in_height, int in_width, int out_height, int out_width, int channels,
                           Rounding rounding)
    : rounding_(rounding) {
  if (in_height < 1 || in_width < 1 || out_height < 1 || out_width < 1 || channels < 1) {
    throw std::invalid_argument("ImageResizer needs sizes of at least 1, got " + std::to_string(in_height) + "x" +
                                std::to_string(in_width) + " -> " + std::to_string(out_height) + "x" +
                                std::to_string(out_width) + ", " + std::to_string(channels) + " channels");
  }
  rows_ = make_axis(in_height, out_height);
  cols_ = make_axis(in_width, out_width);
  in_height_ = static_cast<std::size_t>(in_height);
  in_width_ = static_cast<std::size_t>(in_width);
  channels_ = static_cast<std::size_t>(channels);
  col_pass_.resize(in_height_ * static_cast<std::size_t>(out_width) * channels_);
  row_sums_.resize(static_cast<std::size_t>(out_width) * channels_);
}

ImageResizer::Axis ImageResizer::make_axis(int64_t in, int64_t out) {
  Axis axis;
  auto add = [&](int64_t i, int64_t w) {
    axis.index.push_back(static_cast<std::size_t>(i));
    axis.weight.push_back(static_cast<int32_t>(w));
  };
  if (out <= in) {
    // In units of 1/out of an input pixel, input pixel i spans [i out, (i+1) out) and output
    // pixel j spans [j in, (j+1) in): every overlap is a whole number of units.
    axis.denominator = in;
    for (int64_t j = 0; j < out; ++j) {
      axis.begin.push_back(axis.index.size());
      const int64_t begin = j * in, end = (j + 1) * in;
      for (int64_t i = begin / out; i * out < end; ++i) {
        const int64_t overlap = std::min((i + 1) * out, end) - std::max(i * out, begin);
        if (overlap > 0) add(i, overlap);
      }
    }
  } else {
    // Pixel centres: output j samples input position (j + 1/2) in/out - 1/2, which in units of
    // 1/(2 out) is the integer (2j + 1) in - out; clamped to the edge pixels.
    axis.denominator = 2 * out;
    for (int64_t j = 0; j < out; ++j) {
      axis.begin.push_back(axis.index.size());
      const int64_t pos = std::max<int64_t>((2 * j + 1) * in - out, 0);
      const int64_t i = std::min(pos / (2 * out), in - 1);
      const int64_t frac = i + 1 < in ? pos - i * 2 * out : 0;
      add(i, 2 * out - frac);
      if (frac > 0) add(i + 1, frac);
    }
  }
  axis.begin.push_back(axis.index.size());
  return axis;
}

namespace {

// One input row's column pass: local sums (not stores through `out`, which the byte pointer `in`
// could alias), unrolled over a channel count known at compile time.
template <int C>
void column_pass_row(const uint8_t* in, int32_t* out, std::size_t width, const std::vector<std::size_t>& begin,
                     const std::vector<std::size_t>& index, const std::vector<int32_t>& weight) {
  for (std::size_t j = 0; j < width; ++j) {
    int32_t sums[C] = {};
    for (std::size_t t = begin[j]; t < begin[j + 1]; ++t) {
      const uint8_t* pixel = in + index[t] * C;
      const int32_t w = weight[t];
      for (int k = 0; k < C; ++k) sums[k] += w * pixel[k];
    }
    for (int k = 0; k < C; ++k) out[j * C + k] = sums[k];
  }
}

}  // namespace

void ImageResizer::resize(const uint8_t* in, uint8_t* out) {
  const std::size_t width = cols_.size(), c = channels_;
  // Columns first, every input row: the sums stay below 255 x in_width, within int32.
  for (std::size_t y = 0; y < in_height_; ++y) {
    const uint8_t* in_row = in + y * in_width_ * c;
    int32_t* out_row = col_pass_.data() + y * width * c;
    if (c == 3) {
      column_pass_row<3>(in_row, out_row, width, cols_.begin, cols_.index, cols_.weight);
    } else if (c == 1) {
      column_pass_row<1>(in_row, out_row, width, cols_.begin, cols_.index, cols_.weight);
    } else {
      for (std::size_t j = 0; j < width; ++j) {
        for (std::size_t k = 0; k < c; ++k) {
          int32_t sum = 0;
          for (std::size_t t = cols_.begin[j]; t < cols_.begin[j + 1]; ++t) {
            sum += cols_.weight[t] * in_row[cols_.index[t] * c + k];
          }
          out_row[j * c + k] = sum;
        }
      }
    }
  }
  const int64_t denominator = rows_.denominator * cols_.denominator;
  const std::size_t row_values = width * c;
  std::vector<int64_t>& sums = row_sums_;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    std::fill(sums.begin(), sums.end(), 0);
    for (std::size_t t = rows_.begin[i]; t < rows_.begin[i + 1]; ++t) {
      const int32_t* row = col_pass_.data() + rows_.index[t] * row_values;
      const int64_t w = rows_.weight[t];
      for (std::size_t v = 0; v < row_values; ++v) sums[v] += w * row[v];
    }
    for (std::size_t v = 0; v < row_values; ++v) {
      const int64_t q = sums[v] / denominator, twice_rest = 2 * (sums[v] % denominator);
      bool up = false;
      switch (rounding_) {
        case Rounding::kNearestEven: up = twice_rest > denominator || (twice_rest == denominator && q % 2 == 1); break;
        case Rounding::kHalfUp: up = twice_rest >= denominator; break;
        case Rounding::kDown: break;
      }
      out[i * row_values + v] = static_cast<uint8_t>(q + (up ? 1 : 0));
    }
  }
}

}  // namespace rlforge
