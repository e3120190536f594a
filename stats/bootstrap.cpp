#include "rlforge/stats/bootstrap.h"

#include <random>
#include <stdexcept>
#include <string>

namespace rlforge::stats {

namespace {

void check_options(const BootstrapOptions& options) {
  if (options.resamples < 1) {
    throw std::invalid_argument("bootstrap: resamples must be at least 1, got " + std::to_string(options.resamples));
  }
  if (!(options.confidence > 0 && options.confidence < 1)) {
    throw std::invalid_argument("bootstrap: confidence must lie in (0, 1), got " + std::to_string(options.confidence));
  }
}

// An unbiased index in [0, n): rejection of the few 64-bit values that would favour small
// indices. Spelled out (not std::uniform_int_distribution) so the draws are the same with any
// standard library.
std::size_t draw_index(std::mt19937_64& generator, std::size_t n) {
  const std::uint64_t bound = n;
  const std::uint64_t reject_below = (0 - bound) % bound;  // 2^64 mod n
  std::uint64_t r = generator();
  while (r < reject_below) r = generator();
  return static_cast<std::size_t>(r % bound);
}

// One stratified resample: every task keeps its number of runs.
ScoresByTask resample(const ScoresByTask& scores, std::mt19937_64& generator) {
  ScoresByTask drawn(scores.size());
  for (std::size_t t = 0; t < scores.size(); ++t) {
    const std::vector<double>& runs = scores[t];
    drawn[t].resize(runs.size());
    for (double& value : drawn[t]) value = runs[draw_index(generator, runs.size())];
  }
  return drawn;
}

Interval percentile_interval(double point, const std::vector<double>& statistics, double confidence) {
  const double tail = (1.0 - confidence) / 2.0 * 100.0;
  return {point, percentile(statistics, tail), percentile(statistics, 100.0 - tail)};
}

// Runs `statistic` on `resamples` resamples; column k of the result holds output k of each.
std::vector<std::vector<double>> resampled_statistics(
    const BootstrapOptions& options, std::size_t outputs,
    const std::function<std::vector<double>(std::mt19937_64&)>& one_resample) {
  std::mt19937_64 generator(options.seed);
  std::vector<std::vector<double>> columns(outputs);
  for (auto& column : columns) column.reserve(static_cast<std::size_t>(options.resamples));
  for (int i = 0; i < options.resamples; ++i) {
    const std::vector<double> values = one_resample(generator);
    if (values.size() != outputs) throw std::logic_error("bootstrap: the statistic changed its number of outputs");
    for (std::size_t k = 0; k < outputs; ++k) columns[k].push_back(values[k]);
  }
  return columns;
}

}  // namespace

std::vector<Interval> bootstrap_intervals(const ScoresByTask& scores, const VectorStatistic& statistic,
                                          const BootstrapOptions& options) {
  check_scores(scores);
  check_options(options);
  const std::vector<double> points = statistic(scores);
  const auto columns = resampled_statistics(options, points.size(), [&](std::mt19937_64& generator) {
    return statistic(resample(scores, generator));
  });
  std::vector<Interval> intervals;
  intervals.reserve(points.size());
  for (std::size_t k = 0; k < points.size(); ++k) {
    intervals.push_back(percentile_interval(points[k], columns[k], options.confidence));
  }
  return intervals;
}

Interval bootstrap_interval(const ScoresByTask& scores, const Statistic& statistic, const BootstrapOptions& options) {
  return bootstrap_intervals(
      scores, [&](const ScoresByTask& s) { return std::vector<double>{statistic(s)}; }, options)[0];
}

Interval bootstrap_interval(const ScoresByTask& x, const ScoresByTask& y, const PairStatistic& statistic,
                            const BootstrapOptions& options) {
  check_scores(x);
  check_scores(y);
  check_options(options);
  if (x.size() != y.size()) {
    throw std::invalid_argument("bootstrap: the two algorithms have scores on " + std::to_string(x.size()) +
                                " and " + std::to_string(y.size()) + " tasks; they must share their tasks");
  }
  const double point = statistic(x, y);
  const auto columns = resampled_statistics(options, 1, [&](std::mt19937_64& generator) {
    const ScoresByTask x_drawn = resample(x, generator);
    return std::vector<double>{statistic(x_drawn, resample(y, generator))};
  });
  return percentile_interval(point, columns[0], options.confidence);
}

Interval iqm_interval(const ScoresByTask& scores, const BootstrapOptions& options) {
  return bootstrap_interval(scores, [](const ScoresByTask& s) { return interquartile_mean(flatten(s)); }, options);
}

Interval mean_interval(const ScoresByTask& scores, const BootstrapOptions& options) {
  return bootstrap_interval(scores, [](const ScoresByTask& s) { return mean(flatten(s)); }, options);
}

Interval median_interval(const ScoresByTask& scores, const BootstrapOptions& options) {
  return bootstrap_interval(scores, [](const ScoresByTask& s) { return median(flatten(s)); }, options);
}

Interval optimality_gap_interval(const ScoresByTask& scores, double threshold, const BootstrapOptions& options) {
  return bootstrap_interval(
      scores, [threshold](const ScoresByTask& s) { return optimality_gap(flatten(s), threshold); }, options);
}

std::vector<Interval> performance_profile(const ScoresByTask& scores, const std::vector<double>& taus,
                                          const BootstrapOptions& options) {
  return bootstrap_intervals(
      scores, [&taus](const ScoresByTask& s) { return fraction_above(flatten(s), taus); }, options);
}

Interval probability_of_improvement_interval(const ScoresByTask& x, const ScoresByTask& y,
                                             const BootstrapOptions& options) {
  return bootstrap_interval(
      x, y,
      [](const ScoresByTask& a, const ScoresByTask& b) {
        double sum = 0;
        for (std::size_t t = 0; t < a.size(); ++t) sum += probability_of_improvement(a[t], b[t]);
        return sum / static_cast<double>(a.size());
      },
      options);
}

}  // namespace rlforge::stats
