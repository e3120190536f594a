#include "rlforge/data/splits.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "rlforge/envs/rng.h"

namespace rlforge {

namespace {

std::vector<int64_t> shuffled(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)], order[rng.below(static_cast<uint64_t>(i + 1))]);
  }
  return order;
}

std::vector<int64_t> sorted_slice(const std::vector<int64_t>& v, int64_t begin, int64_t end) {
  std::vector<int64_t> out(v.begin() + begin, v.begin() + end);
  std::sort(out.begin(), out.end());
  return out;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

}  // namespace

Split split_groups(int64_t num_groups, double validation_fraction, double test_fraction,
                   uint64_t seed) {
  auto check = [](const char* name, double f) {
    if (!(f >= 0 && f < 1))
      throw DataError(std::string("split: ") + name + " must be in [0, 1), got " + number(f));
  };
  check("validation_fraction", validation_fraction);
  check("test_fraction", test_fraction);
  if (!(validation_fraction + test_fraction < 1)) {
    throw DataError(
        "split: validation_fraction + test_fraction must be below 1 to leave groups for training, "
        "got " +
        number(validation_fraction) + " + " + number(test_fraction));
  }
  if (num_groups < 1)
    throw DataError("split: expected at least one group (episode or row), got " +
                    std::to_string(num_groups));
  auto count = [num_groups](double f) {
    if (f == 0) return int64_t{0};
    return std::max<int64_t>(1, std::llround(f * static_cast<double>(num_groups)));
  };
  const int64_t n_test = count(test_fraction), n_validation = count(validation_fraction);
  if (n_test + n_validation >= num_groups) {
    throw DataError("split: " + std::to_string(num_groups) +
                    " groups are too few for validation fraction " + number(validation_fraction) +
                    " and test fraction " + number(test_fraction) + " (" +
                    std::to_string(n_validation) + " + " + std::to_string(n_test) +
                    " groups leave none for training)");
  }
  const std::vector<int64_t> order = shuffled(num_groups, seed);
  Split s;
  s.test = sorted_slice(order, 0, n_test);
  s.validation = sorted_slice(order, n_test, n_test + n_validation);
  s.train = sorted_slice(order, n_test + n_validation, num_groups);
  return s;
}

std::vector<Split> k_fold(int64_t num_groups, int k, uint64_t seed) {
  if (k < 2 || k > num_groups) {
    throw DataError("k_fold: expected 2 <= k <= number of groups (" + std::to_string(num_groups) +
                    "), got k = " + std::to_string(k));
  }
  const std::vector<int64_t> order = shuffled(num_groups, seed);
  std::vector<Split> folds(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) {
    const int64_t begin = num_groups * i / k, end = num_groups * (i + 1) / k;
    Split& s = folds[static_cast<std::size_t>(i)];
    s.validation = sorted_slice(order, begin, end);
    std::vector<int64_t> rest(order.begin(), order.begin() + begin);
    rest.insert(rest.end(), order.begin() + end, order.end());
    std::sort(rest.begin(), rest.end());
    s.train = std::move(rest);
  }
  return folds;
}

std::vector<int64_t> steps_of_episodes(const EpisodeDataset& dataset,
                                       const std::vector<int64_t>& episodes) {
  std::vector<int64_t> steps;
  for (int64_t e : episodes) {
    const EpisodeDataset::Episode ep = dataset.episode(e);  // checks the index
    for (int64_t t = 0; t < ep.length; ++t) steps.push_back(ep.first_step + t);
  }
  return steps;
}

}  // namespace rlforge
