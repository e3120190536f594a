#include "rlforge/agents/flat_parameters.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "rlforge/agents/denormals.h"
#include "vector_clones.h"
#include "worker_tasks.h"

namespace rlforge {

namespace {

// Sum of squares in 16 independent float lanes (so the compiler vectorises it), added up in double.
RLFORGE_VECTOR_CLONES double sum_of_squares(const float* x, int64_t n) {
  float lanes[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 16; ++k) lanes[k] += x[i + k] * x[i + k];
  }
  double total = 0;
  for (; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  for (const float lane : lanes) total += lane;
  return total;
}

// Adam's update of n parameters with gradient g * scale (LibTorch's arithmetic, in its order).
RLFORGE_VECTOR_CLONES void adam_update(float* __restrict p, const float* __restrict g,
                                       float* __restrict m, float* __restrict v, int64_t n,
                                       float scale, float b1, float one_b1, float b2, float one_b2,
                                       float step_size, float bias2_sqrt, float eps) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * scale;
    const float mi = m[i] * b1 + gi * one_b1;
    const float vi = v[i] * b2 + gi * gi * one_b2;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (__builtin_sqrtf(vi) / bias2_sqrt + eps);
  }
}

}  // namespace

FlatParameters::FlatParameters(std::vector<torch::Tensor> parameters)
    : parameters_(std::move(parameters)) {
  if (parameters_.empty()) throw std::invalid_argument("FlatParameters: no parameters");
  int64_t total = 0;
  for (const auto& p : parameters_) total += p.numel();
  const auto options = parameters_.front().options().requires_grad(false);
  data_ = torch::empty({total}, options);
  grad_ = torch::zeros({total}, options);
  data_.set_requires_grad(true);
  data_.mutable_grad() = grad_;
  rebind();
}

void FlatParameters::rebind() {
  torch::NoGradGuard no_grad;
  const torch::Tensor data = data_.detach();
  int64_t offset = 0;
  for (auto& p : parameters_) {
    const int64_t n = p.numel();
    if (p.device() != data.device() || p.scalar_type() != data.scalar_type()) {
      throw std::invalid_argument("FlatParameters: parameters of different devices or dtypes");
    }
    torch::Tensor slot = data.narrow(0, offset, n).view(p.sizes());
    if (!slot.is_same(p) && slot.data_ptr() != p.data_ptr()) slot.copy_(p.detach());
    p.set_data(slot);
    p.mutable_grad() = grad_.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
}

double gradient_norm(const FlatParameters& parameters) {
  const torch::Tensor& grad = parameters.grad();
  return std::sqrt(sum_of_squares(grad.data_ptr<float>(), grad.numel()));
}

void adam_step(FlatParameters& parameters, torch::optim::Adam& optimizer, float grad_scale,
               WorkerPool* pool) {
  const torch::Tensor& param = parameters.data();
  const torch::Tensor& grad = parameters.grad();
  if (!param.device().is_cpu()) {
    if (grad_scale != 1.0f) grad.mul_(grad_scale);
    optimizer.step();
    return;
  }
  auto& states = optimizer.state();
  const std::string key = c10::guts::to_string(param.unsafeGetTensorImpl());
  if (states.find(key) == states.end()) {
    auto state = std::make_unique<torch::optim::AdamParamState>();
    state->step(0);
    state->exp_avg(torch::zeros_like(param, torch::MemoryFormat::Preserve));
    state->exp_avg_sq(torch::zeros_like(param, torch::MemoryFormat::Preserve));
    states[key] = std::move(state);
  }
  auto& state = static_cast<torch::optim::AdamParamState&>(*states[key]);
  const auto& options =
      static_cast<const torch::optim::AdamOptions&>(optimizer.param_groups().front().options());
  state.step(state.step() + 1);
  const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
  const double bias1 = 1 - std::pow(beta1, static_cast<double>(state.step()));
  const double bias2 = 1 - std::pow(beta2, static_cast<double>(state.step()));
  const float step_size = static_cast<float>(options.lr() / bias1);
  const float bias2_sqrt = static_cast<float>(std::sqrt(bias2));
  const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
  const float one_b1 = static_cast<float>(1 - beta1), one_b2 = static_cast<float>(1 - beta2);
  const float eps = static_cast<float>(options.eps());
  float* p = param.data_ptr<float>();
  const float* g = grad.data_ptr<float>();
  float* m = state.exp_avg().data_ptr<float>();
  float* v = state.exp_avg_sq().data_ptr<float>();
  auto update = [&](int64_t begin, int64_t end) {
    if (begin < end) {
      adam_update(p + begin, g + begin, m + begin, v + begin, end - begin, grad_scale, b1, one_b1,
                  b2, one_b2, step_size, bias2_sqrt, eps);
    }
  };
  // Adam's moments of quiet parameters decay into denormals, many times slower each
  // (denormals.h); flushed, they stop costing time and, far below a parameter's last bit, change
  // nothing else. for_each_index hands the mode to the workers.
  const DenormalModeScope flush(flush_denormals_mode());
  const int64_t n = param.numel();
  // Below this a second thread costs more than it saves.
  constexpr int64_t kSplitFrom = 1 << 15;
  if (pool == nullptr || pool->workers() == 1 || n < kSplitFrom) {
    update(0, n);
    return;
  }
  // Slices start on 64-float boundaries, so every element keeps the vector lanes it had; a few
  // per worker, so that a worker on a busy core can hand some to the other.
  const int64_t parts = 4 * pool->workers();
  const int64_t chunk = ((n + parts - 1) / parts + 63) / 64 * 64;
  for_each_index(pool, parts,
                 [&](int64_t k) { update(std::min(n, k * chunk), std::min(n, (k + 1) * chunk)); });
}

}  // namespace rlforge
