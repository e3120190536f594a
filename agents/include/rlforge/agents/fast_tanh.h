#pragma once
// tanh for the networks' forward passes. LibTorch 1.13's CPU tanh (Sleef's accurate variant)
// costs as much as the matrix product before it in a 64-wide MLP (about 2.3 ns per float here);
// a clamped rational approximation, compiled for AVX-512, AVX2 and plain x86-64 and picked at
// load time, is within 1e-6 of tanh and about ten times faster.

#include <torch/torch.h>

#include <cstdint>

namespace rlforge {

// tanh of n floats in place.
void fast_tanh(float* values, int64_t n);
// tanh of `x` in place: the fast kernel for contiguous float32 CPU tensors, LibTorch's otherwise.
void fast_tanh_(torch::Tensor& x);

}  // namespace rlforge
