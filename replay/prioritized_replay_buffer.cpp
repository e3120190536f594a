#include "rlforge/replay/prioritized_replay_buffer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "replay_io.h"

namespace rlforge {

namespace {

int64_t leaves_for(int64_t size) {
  int64_t n = 1;
  while (n < size) n *= 2;
  return n;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

// ---- trees -------------------------------------------------------------------------------------

SumTree::SumTree(int64_t size) : size_(size), leaves_(leaves_for(size)) {
  nodes_.assign(static_cast<std::size_t>(2 * leaves_), 0.0);
}

void SumTree::clear() { std::fill(nodes_.begin(), nodes_.end(), 0.0); }

void SumTree::set(int64_t index, double value) {
  // Parents are recomputed from their children (not adjusted by a difference), so rounding
  // errors do not accumulate over millions of updates.
  auto i = static_cast<std::size_t>(leaves_ + index);
  nodes_[i] = value;
  for (i /= 2; i >= 1; i /= 2) nodes_[i] = nodes_[2 * i] + nodes_[2 * i + 1];
}

int64_t SumTree::find(double prefix) const {
  std::size_t i = 1;
  const auto leaves = static_cast<std::size_t>(leaves_);
  while (i < leaves) {
    const std::size_t left = 2 * i;
    // Go right only into positive mass: a prefix pushed to the total by rounding still ends on
    // a positive leaf.
    if ((prefix < nodes_[left] && nodes_[left] > 0.0) || nodes_[left + 1] <= 0.0) {
      i = left;
    } else {
      prefix -= nodes_[left];
      i = left + 1;
    }
  }
  return static_cast<int64_t>(i - leaves);
}

MinTree::MinTree(int64_t size) : leaves_(leaves_for(size)) {
  nodes_.assign(static_cast<std::size_t>(2 * leaves_), kInf);
}

void MinTree::clear() { std::fill(nodes_.begin(), nodes_.end(), kInf); }

void MinTree::set(int64_t index, double value) {
  auto i = static_cast<std::size_t>(leaves_ + index);
  nodes_[i] = value;
  // Once a node keeps its value, so do all above it.
  for (i /= 2; i >= 1; i /= 2) {
    const double m = std::min(nodes_[2 * i], nodes_[2 * i + 1]);
    if (nodes_[i] == m) break;
    nodes_[i] = m;
  }
}

double linear_schedule(double start, double end, int64_t step, int64_t duration) {
  if (duration <= 0 || step >= duration) return end;
  if (step <= 0) return start;
  return start + (end - start) * (static_cast<double>(step) / static_cast<double>(duration));
}

// ---- buffer ------------------------------------------------------------------------------------

int64_t PrioritizedReplayBuffer::memory_bytes(const ReplayBufferConfig& config) {
  return ReplayBuffer::memory_bytes(config) +
         2 * (2 * leaves_for(total_slots(config))) * static_cast<int64_t>(sizeof(double));
}

PrioritizedReplayBuffer::PrioritizedReplayBuffer(const ReplayBufferConfig& config,
                                                 const PrioritizedReplayConfig& per)
    : ReplayBuffer(config),
      per_(per),
      beta_(per.beta),
      sum_(num_envs() * slots_per_env()),
      min_(num_envs() * slots_per_env()) {
  if (!(per.alpha >= 0.0) || !(per.epsilon > 0.0)) {
    throw std::invalid_argument("prioritized replay needs alpha >= 0 and epsilon > 0, got alpha " +
                                std::to_string(per.alpha) + ", epsilon " + std::to_string(per.epsilon));
  }
  set_beta(per.beta);
}

int64_t PrioritizedReplayBuffer::allocated_bytes() const {
  return ReplayBuffer::allocated_bytes() + 2 * (2 * leaves_for(sum_.size())) * static_cast<int64_t>(sizeof(double));
}

void PrioritizedReplayBuffer::set_beta(double beta) {
  if (!(beta >= 0.0 && beta <= 1.0)) {
    throw std::invalid_argument("prioritized replay: beta must lie in [0, 1], got " + std::to_string(beta));
  }
  beta_ = beta;
}

void PrioritizedReplayBuffer::set_priority(int64_t index, double p) {
  sum_.set(index, p);
  min_.set(index, p > 0.0 ? p : kInf);
}

void PrioritizedReplayBuffer::on_valid(int64_t index) { set_priority(index, max_priority_); }
void PrioritizedReplayBuffer::on_invalid(int64_t index) { set_priority(index, 0.0); }

void PrioritizedReplayBuffer::clear() {
  ReplayBuffer::clear();
  sum_.clear();
  min_.clear();
  max_priority_ = 1.0;
}

void PrioritizedReplayBuffer::update_priorities(const std::vector<int64_t>& indices,
                                                const std::vector<double>& td_errors) {
  if (indices.size() != td_errors.size()) {
    throw std::invalid_argument("update_priorities: " + std::to_string(indices.size()) + " indices but " +
                                std::to_string(td_errors.size()) + " TD errors");
  }
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const int64_t g = indices[i];
    if (!std::isfinite(td_errors[i])) {
      throw std::invalid_argument("update_priorities: TD error " + std::to_string(td_errors[i]) +
                                  " for index " + std::to_string(g) + " is not finite");
    }
    if (g < 0 || g >= sum_.size()) {
      throw std::out_of_range("update_priorities: index " + std::to_string(g) + " is outside the buffer's " +
                              std::to_string(sum_.size()) + " slots");
    }
    if (!is_valid(g)) continue;  // overwritten since it was sampled
    const double p = std::pow(std::abs(td_errors[i]) + per_.epsilon, per_.alpha);
    set_priority(g, p);
    max_priority_ = std::max(max_priority_, p);
  }
}

void PrioritizedReplayBuffer::update_priorities(const torch::Tensor& indices, const torch::Tensor& td_errors) {
  const torch::Tensor idx = indices.detach().to(torch::kCPU, torch::kInt64).contiguous().view(-1);
  const torch::Tensor td = td_errors.detach().to(torch::kCPU, torch::kFloat64).contiguous().view(-1);
  const int64_t* ip = idx.data_ptr<int64_t>();
  const double* tp = td.data_ptr<double>();
  update_priorities(std::vector<int64_t>(ip, ip + idx.numel()), std::vector<double>(tp, tp + td.numel()));
}

ReplaySample PrioritizedReplayBuffer::sample(int64_t batch_size, torch::Generator& generator,
                                             const torch::Device& device) {
  if (batch_size <= 0) throw std::invalid_argument("replay buffer: batch size must be positive");
  if (size() == 0) throw std::logic_error("replay buffer: nothing to sample yet (no complete transition stored)");
  if (generator.device().type() != c10::DeviceType::CPU) {
    throw std::invalid_argument("replay buffer: sampling needs a CPU generator");
  }
  const double total = sum_.total();
  const double segment = total / static_cast<double>(batch_size);
  picked_.resize(static_cast<std::size_t>(batch_size));
  std::vector<int64_t>& picked = picked_;
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    auto* rng = generator.get<at::CPUGeneratorImpl>();
    for (int64_t b = 0; b < batch_size; ++b) {
      const double u = static_cast<double>(rng->random64() >> 11) * 0x1.0p-53;  // [0, 1)
      picked[static_cast<std::size_t>(b)] = sum_.find((static_cast<double>(b) + u) * segment);
    }
  }
  ReplaySample s = staged_sample(batch_size);
  fill(picked.data(), batch_size, s);
  // w_i = (N P(i))^-beta / max_j w_j, and the largest weight is that of the smallest priority.
  const double n = static_cast<double>(size());
  const double max_weight = std::pow(n * min_.min() / total, -beta_);
  float* w = s.weights.data_ptr<float>();
  for (int64_t b = 0; b < batch_size; ++b) {
    const double p = sum_.get(picked[static_cast<std::size_t>(b)]);
    w[b] = static_cast<float>(std::pow(n * p / total, -beta_) / max_weight);
  }
  return to_device(std::move(s), device);
}

// ---- save / load -------------------------------------------------------------------------------

std::string PrioritizedReplayBuffer::extra_header() const {
  replay_io::Packer p;
  p.put<double>(per_.alpha);
  p.put<double>(per_.epsilon);
  p.put<double>(max_priority_);
  p.put<double>(beta_);
  return p.bytes();
}

void PrioritizedReplayBuffer::check_extra_header(const std::string& header, const std::string& path) const {
  replay_io::Unpacker u(header, path);
  const double alpha = u.get<double>(), epsilon = u.get<double>();
  if (alpha != per_.alpha || epsilon != per_.epsilon) {
    throw std::runtime_error(path + " does not match this buffer; alpha, epsilon: file has " + std::to_string(alpha) +
                             ", " + std::to_string(epsilon) + ", expected " + std::to_string(per_.alpha) + ", " +
                             std::to_string(per_.epsilon));
  }
  // Read here, before anything is changed, so that after_load cannot fail.
  const double max_priority = u.get<double>(), beta = u.get<double>();
  if (!(std::isfinite(max_priority) && max_priority > 0.0) || !(beta >= 0.0 && beta <= 1.0)) {
    throw std::runtime_error(path + " is inconsistent: largest priority " + std::to_string(max_priority) + ", beta " +
                             std::to_string(beta) + " (expected a positive number and a value in [0, 1])");
  }
}

void PrioritizedReplayBuffer::write_extra_slots(int64_t first, int64_t count, unsigned char* out) const {
  for (int64_t i = 0; i < count; ++i) {
    const double p = sum_.get(first + i);
    std::memcpy(out + i * static_cast<int64_t>(sizeof(double)), &p, sizeof(double));
  }
}

void PrioritizedReplayBuffer::read_extra_slots(int64_t first, int64_t count, const unsigned char* in) {
  for (int64_t i = 0; i < count; ++i) {
    double p;
    std::memcpy(&p, in + i * static_cast<int64_t>(sizeof(double)), sizeof(double));
    // Only sampleable transitions carry a priority, (|td| + epsilon)^alpha > 0; anything else stays 0.
    if (!is_valid(first + i)) p = 0.0;
    if (is_valid(first + i) && !(std::isfinite(p) && p > 0.0)) {
      throw std::runtime_error("slot " + std::to_string(first + i) +
                               " holds priority " + std::to_string(p) + " (expected a positive number)");
    }
    set_priority(first + i, p);
  }
}

void PrioritizedReplayBuffer::after_load(const std::string& header) {
  replay_io::Unpacker u(header, "");
  u.get<double>();
  u.get<double>();
  max_priority_ = u.get<double>();
  beta_ = u.get<double>();
}

}  // namespace rlforge
