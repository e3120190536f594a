#include "rlforge/trainers/augmentation.h"

#include <algorithm>
#include <cmath>

namespace rlforge {

torch::Tensor shift_offsets(int64_t batch, int64_t pad, torch::Generator& generator) {
  return torch::randint(0, 2 * pad + 1, {batch, 2}, generator, torch::kInt64);
}

torch::Tensor random_shift(const torch::Tensor& frames, const ImageLayout& layout, int64_t pad, const torch::Tensor& offsets) {
  const int64_t batch = frames.size(0), height = layout.height, width = layout.width;
  const torch::Tensor padded = torch::nn::functional::pad(
      to_channels_first(frames, layout).to(torch::kFloat32),
      torch::nn::functional::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReplicate));
  const auto o = offsets.accessor<int64_t, 2>();
  std::vector<torch::Tensor> crops;
  crops.reserve(static_cast<std::size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) crops.push_back(padded[b].narrow(1, o[b][0], height).narrow(2, o[b][1], width));
  const torch::Tensor shifted = torch::stack(crops).to(frames.scalar_type());  // [B, C, H, W]
  return from_channels_first(shifted, layout, frames.sizes().slice(1));
}

torch::Tensor cutout(const torch::Tensor& frames, const ImageLayout& layout, double fraction, double fill,
                     torch::Generator& generator) {
  const int64_t side = std::llround(fraction * static_cast<double>(std::min(layout.height, layout.width)));
  if (side <= 0) return frames;
  const int64_t batch = frames.size(0);
  // Centres anywhere in the frame, so a square near an edge covers less of it (as the paper does).
  const torch::Tensor rows = torch::randint(0, layout.height, {batch}, generator, torch::kInt64);
  const torch::Tensor cols = torch::randint(0, layout.width, {batch}, generator, torch::kInt64);
  const torch::Tensor r = torch::arange(layout.height, torch::kInt64).view({1, -1, 1});
  const torch::Tensor c = torch::arange(layout.width, torch::kInt64).view({1, 1, -1});
  const torch::Tensor top = (rows - side / 2).view({-1, 1, 1}), left = (cols - side / 2).view({-1, 1, 1});
  const torch::Tensor inside = r.ge(top) & r.lt(top + side) & c.ge(left) & c.lt(left + side);  // [B, H, W]
  const torch::Tensor channels_first = to_channels_first(frames, layout);
  const torch::Tensor filled = channels_first.masked_fill(inside.unsqueeze(1).to(frames.device()), fill);
  return from_channels_first(filled, layout, frames.sizes().slice(1));
}

torch::Tensor VectorAugmenter::operator()(const torch::Tensor& inputs, double noise, double mask,
                                          torch::Generator& generator) const {
  const torch::Tensor x = inputs.to(torch::kFloat32).flatten(1);
  torch::Tensor out = x + noise * std_ * torch::randn(x.sizes(), generator).to(x.device());
  if (mask > 0) {
    const torch::Tensor replaced = torch::rand(x.sizes(), generator).lt(mask).to(x.device());
    out = torch::where(replaced, mean_.expand_as(out), out);
  }
  return out.reshape(inputs.sizes());
}

}  // namespace rlforge
