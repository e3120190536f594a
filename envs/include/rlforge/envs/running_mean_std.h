#pragma once
// Running mean and variance over vectors, merged batch-wise (Chan et al.'s parallel update, as
// Gymnasium's RunningMeanStd does it). Starts at mean 0, variance 1, count 1e-4.

#include <cstddef>
#include <vector>

namespace rlforge {

class RunningMeanStd {
 public:
  explicit RunningMeanStd(std::size_t size = 1, double initial_count = 1e-4);

  // Adds one observation of `size()` values.
  void update(const float* values);
  void update(const double* values);

  std::size_t size() const { return mean_.size(); }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& var() const { return var_; }
  double count() const { return count_; }

  // Flat state [count, mean..., var...] for checkpoints.
  std::vector<double> save() const;
  // Throws std::invalid_argument when `state` does not fit this size.
  void load(const std::vector<double>& state);

 private:
  std::vector<double> mean_, var_;
  double count_;
};

}  // namespace rlforge
