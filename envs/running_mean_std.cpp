#include "rlforge/envs/running_mean_std.h"

#include <stdexcept>
#include <string>

namespace rlforge {

RunningMeanStd::RunningMeanStd(std::size_t size, double initial_count)
    : mean_(size, 0.0), var_(size, 1.0), count_(initial_count) {}

namespace {
// Merges one sample into (mean, var, count) with the batch formula for a batch of one:
// batch mean x, batch variance 0.
template <class T>
void merge_one(std::vector<double>& mean, std::vector<double>& var, double& count, const T* x) {
  const double total = count + 1.0;
  for (std::size_t i = 0; i < mean.size(); ++i) {
    const double delta = static_cast<double>(x[i]) - mean[i];
    mean[i] += delta / total;
    const double m2 = var[i] * count + delta * delta * count / total;
    var[i] = m2 / total;
  }
  count = total;
}
}  // namespace

void RunningMeanStd::update(const float* values) { merge_one(mean_, var_, count_, values); }
void RunningMeanStd::update(const double* values) { merge_one(mean_, var_, count_, values); }

std::vector<double> RunningMeanStd::save() const {
  std::vector<double> state;
  state.reserve(1 + 2 * mean_.size());
  state.push_back(count_);
  state.insert(state.end(), mean_.begin(), mean_.end());
  state.insert(state.end(), var_.begin(), var_.end());
  return state;
}

void RunningMeanStd::load(const std::vector<double>& state) {
  if (state.size() != 1 + 2 * mean_.size()) {
    throw std::invalid_argument("running statistics of size " + std::to_string(mean_.size()) +
                                " need " + std::to_string(1 + 2 * mean_.size()) +
                                " values, got " + std::to_string(state.size()));
  }
  count_ = state[0];
  for (std::size_t i = 0; i < mean_.size(); ++i) {
    mean_[i] = state[1 + i];
    var_[i] = state[1 + mean_.size() + i];
  }
}

}  // namespace rlforge
