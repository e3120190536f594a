#include "rlforge/replay/rollout_buffer.h"

#include <stdexcept>
#include <string>

namespace rlforge {

namespace {
std::vector<int64_t> concat(std::vector<int64_t> head, const std::vector<int64_t>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}
}  // namespace

RolloutBuffer::RolloutBuffer(const RolloutBufferConfig& config) : config_(config) {
  if (config.n_steps <= 0 || config.num_envs <= 0) {
    throw std::invalid_argument("rollout buffer needs n_steps > 0 and num_envs > 0, got " +
                                std::to_string(config.n_steps) + " and " +
                                std::to_string(config.num_envs));
  }
  const std::vector<int64_t> steps = {config.n_steps, config.num_envs};
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  observations_ = torch::zeros(concat(steps, config.observation_shape),
                               torch::TensorOptions().dtype(config.observation_dtype));
  actions_ = torch::zeros(concat(steps, config.action_shape),
                          torch::TensorOptions().dtype(config.action_dtype));
  log_probs_ = torch::zeros(steps, f32);
  values_ = torch::zeros(steps, f32);
  rewards_ = torch::zeros(steps, f32);
  ended_ = torch::zeros(steps, f32);
  advantages_ = torch::zeros(steps, f32);
  returns_ = torch::zeros(steps, f32);
}

void RolloutBuffer::add_decision(const torch::Tensor& observations, const torch::Tensor& actions,
                                 const torch::Tensor& log_probs, const torch::Tensor& values) {
  if (full()) throw std::logic_error("rollout buffer is full; compute advantages and clear it");
  if (decision_pending_) throw std::logic_error("rollout buffer: add_outcome() must follow add_decision()");
  const int64_t t = position_;
  observations_[t].copy_(observations);
  actions_[t].copy_(actions);
  log_probs_[t].copy_(log_probs);
  values_[t].copy_(values);
  decision_pending_ = true;
}

void RolloutBuffer::add_outcome(const torch::Tensor& rewards, const torch::Tensor& ended,
                                const torch::Tensor& bootstrap) {
  if (!decision_pending_) throw std::logic_error("rollout buffer: add_decision() must come first");
  const int64_t t = position_;
  rewards_[t].copy_(rewards);
  rewards_[t].add_(bootstrap);
  ended_[t].copy_(ended);
  decision_pending_ = false;
  ++position_;
}

void RolloutBuffer::compute_advantages(const torch::Tensor& last_values, double gamma,
                                       double gae_lambda) {
  if (!full()) {
    throw std::logic_error("rollout buffer holds " + std::to_string(position_) + " of " +
                           std::to_string(n_steps()) + " steps; fill it before computing advantages");
  }
  // A short sequential recursion over n_steps: plain loops on the CPU data beat tensor ops.
  const int64_t n = num_envs();
  const torch::Tensor last = last_values.to(torch::kCPU, torch::kFloat32).contiguous();
  const float* next_v = last.data_ptr<float>();
  const float* v = values_.data_ptr<float>();
  const float* r = rewards_.data_ptr<float>();
  const float* e = ended_.data_ptr<float>();
  float* adv = advantages_.data_ptr<float>();
  float* ret = returns_.data_ptr<float>();
  std::vector<double> gae(static_cast<std::size_t>(n), 0.0);
  for (int64_t t = n_steps() - 1; t >= 0; --t) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = t * n + i;
      const double next_value = t == n_steps() - 1 ? next_v[i] : v[k + n];
      const double not_ended = 1.0 - e[k];
      const double delta = r[k] + gamma * next_value * not_ended - v[k];
      double& g = gae[static_cast<std::size_t>(i)];
      g = delta + gamma * gae_lambda * not_ended * g;
      adv[k] = static_cast<float>(g);
      ret[k] = static_cast<float>(g + v[k]);
    }
  }
}

}  // namespace rlforge
