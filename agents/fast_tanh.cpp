#include "rlforge/agents/fast_tanh.h"
#include "vector_clones.h"

#include <algorithm>

namespace rlforge {

namespace {
// Odd over even polynomial (degrees 13 and 6) fitted to tanh on [-7.9, 7.9]; beyond that
// range tanh is 1 in float. The coefficients are those of Eigen's float tanh.
constexpr float kClamp = 7.90531110763549805f;
constexpr float kA1 = 4.89352455891786e-03f, kA3 = 6.37261928875436e-04f, kA5 = 1.48572235717979e-05f,
                kA7 = 5.12229709037114e-08f, kA9 = -8.60467152213735e-11f, kA11 = 2.00018790482477e-13f,
                kA13 = -2.76076847742355e-16f;
constexpr float kB0 = 4.89352518554385e-03f, kB2 = 2.26843463243900e-03f, kB4 = 1.18534705686654e-04f,
                kB6 = 1.19825839466702e-06f;

RLFORGE_VECTOR_CLONES void tanh_kernel(float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    // NaN passes through the clamp (both comparisons are false) and stays NaN.
    const float v = std::min(std::max(x[i], -kClamp), kClamp);
    const float v2 = v * v;
    float p = v2 * kA13 + kA11;
    p = p * v2 + kA9;
    p = p * v2 + kA7;
    p = p * v2 + kA5;
    p = p * v2 + kA3;
    p = p * v2 + kA1;
    p = p * v;
    float q = v2 * kB6 + kB4;
    q = q * v2 + kB2;
    q = q * v2 + kB0;
    x[i] = p / q;
  }
}
}  // namespace

void fast_tanh(float* values, int64_t n) { tanh_kernel(values, n); }

void fast_tanh_(torch::Tensor& x) {
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.is_contiguous()) {
    fast_tanh(x.data_ptr<float>(), x.numel());
  } else {
    x.tanh_();
  }
}

}  // namespace rlforge
