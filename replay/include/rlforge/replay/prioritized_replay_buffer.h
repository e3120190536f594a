#pragma once
// Prioritized experience replay (Schaul et al. 2016, proportional variant) on top of ReplayBuffer.
//
// A transition's priority is p = (|td_error| + epsilon)^alpha; it is drawn with probability
// P(i) = p_i / sum_j p_j, by stratified sampling: the total mass is cut into batch_size equal
// segments and one prefix sum is drawn uniformly in each. New transitions get the largest priority
// seen so far (1 at first), so each is likely to be replayed at least once. Importance weights are
// w_i = (N P(i))^-beta / max_j w_j, N the number of sampleable transitions; the largest weight
// belongs to the smallest priority, which a min-tree gives in O(1), so weights lie in (0, 1].
// The caller anneals beta towards 1 over training (linear_schedule below).
//
// Priorities live in a sum-tree and a min-tree over every slot of the buffer (arrays of twice
// the next power of two, root at 1, leaves at [size, 2 size)): set and prefix-sum search are
// O(log n). Slots without a sampleable transition hold priority 0 (+inf in the min-tree).

#include <cstdint>
#include <vector>

#include "rlforge/replay/replay_buffer.h"

namespace rlforge {

// Sum of leaves and search by prefix sum.
class SumTree {
 public:
  explicit SumTree(int64_t size = 0);
  int64_t size() const { return size_; }
  void set(int64_t index, double value);
  double get(int64_t index) const { return nodes_[static_cast<std::size_t>(leaves_ + index)]; }
  double total() const { return nodes_[1]; }
  // The leaf i where the sum of leaves before i is <= prefix < that sum plus leaf i. Never
  // returns a zero leaf while total() > 0, whatever rounding does to `prefix`.
  int64_t find(double prefix) const;
  void clear();

 private:
  int64_t size_ = 0, leaves_ = 1;
  std::vector<double> nodes_;
};

// Minimum of leaves; empty leaves are +inf.
class MinTree {
 public:
  explicit MinTree(int64_t size = 0);
  void set(int64_t index, double value);
  double min() const { return nodes_[1]; }
  void clear();

 private:
  int64_t leaves_ = 1;
  std::vector<double> nodes_;
};

struct PrioritizedReplayConfig {
  double alpha = 0.6;     // 0: uniform; 1: fully proportional
  double beta = 0.4;      // importance-sampling exponent at the start (set_beta anneals it)
  double epsilon = 1e-6;  // added to |td error| so no transition gets priority 0
};

// Linear interpolation from `start` (step 0) to `end` (step >= duration), e.g. for beta.
double linear_schedule(double start, double end, int64_t step, int64_t duration);

class PrioritizedReplayBuffer : public ReplayBuffer {
 public:
  PrioritizedReplayBuffer(const ReplayBufferConfig& config, const PrioritizedReplayConfig& per);

  // ReplayBuffer::memory_bytes plus the two trees.
  static int64_t memory_bytes(const ReplayBufferConfig& config);
  int64_t allocated_bytes() const override;

  const PrioritizedReplayConfig& prioritized_config() const { return per_; }
  double beta() const { return beta_; }
  void set_beta(double beta);
  double max_priority() const { return max_priority_; }
  // Stored priority p_i (after alpha) of a slot, 0 where it holds no sampleable transition.
  double priority(int64_t index) const { return sum_.get(index); }

  // Stratified prioritized draw; weights are the normalised importance weights at beta().
  ReplaySample sample(int64_t batch_size, torch::Generator& generator,
                      const torch::Device& device = torch::kCPU) override;
  // p = (|td_error| + epsilon)^alpha for the transitions at `indices` (as sampled; any device,
  // any floating dtype). Indices whose transition has been overwritten since are skipped.
  void update_priorities(const torch::Tensor& indices, const torch::Tensor& td_errors);
  void update_priorities(const std::vector<int64_t>& indices, const std::vector<double>& td_errors);

  void clear() override;

 protected:
  void on_valid(int64_t index) override;
  void on_invalid(int64_t index) override;
  uint8_t kind() const override { return 1; }
  std::string extra_header() const override;
  void check_extra_header(const std::string& header, const std::string& path) const override;
  int64_t extra_slot_bytes() const override { return sizeof(double); }
  void write_extra_slots(int64_t first, int64_t count, unsigned char* out) const override;
  void read_extra_slots(int64_t first, int64_t count, const unsigned char* in) override;
  void after_load(const std::string& header) override;

 private:
  void set_priority(int64_t index, double p);

  PrioritizedReplayConfig per_;
  double beta_;
  double max_priority_ = 1.0;
  SumTree sum_;
  MinTree min_;
};

}  // namespace rlforge
