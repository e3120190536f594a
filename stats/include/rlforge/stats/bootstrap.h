#pragma once

// Stratified bootstrap confidence intervals (Agarwal et al. 2021): each resample draws, for every
// task separately, as many runs as that task has, with replacement, so every task keeps its
// weight; the interval is the percentile interval of the statistic over the resamples.

#include "rlforge/stats/aggregates.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace rlforge::stats {

struct Interval {
  double point = 0;  // the statistic on the scores themselves
  double lower = 0;
  double upper = 0;
};

struct BootstrapOptions {
  int resamples = 2000;      // more resamples, less Monte Carlo error in the interval ends
  double confidence = 0.95;  // two-sided
  std::uint64_t seed = 0;    // the same seed and scores give the same interval
};

// A statistic of one algorithm's scores (e.g. the IQM of all of them).
using Statistic = std::function<double(const ScoresByTask&)>;
// A statistic of many values at once (a performance profile at several taus).
using VectorStatistic = std::function<std::vector<double>(const ScoresByTask&)>;
// A statistic comparing two algorithms on the same tasks.
using PairStatistic = std::function<double(const ScoresByTask&, const ScoresByTask&)>;

// Throws std::invalid_argument for bad scores or options (resamples < 1, confidence outside
// (0, 1)).
Interval bootstrap_interval(const ScoresByTask& scores, const Statistic& statistic,
                            const BootstrapOptions& options = {});
std::vector<Interval> bootstrap_intervals(const ScoresByTask& scores, const VectorStatistic& statistic,
                                          const BootstrapOptions& options = {});
// Resamples x and y independently (both stratified by task); they must have the same tasks.
Interval bootstrap_interval(const ScoresByTask& x, const ScoresByTask& y, const PairStatistic& statistic,
                            const BootstrapOptions& options = {});

// The aggregates of a report, each with its interval.
Interval iqm_interval(const ScoresByTask& scores, const BootstrapOptions& options = {});
Interval mean_interval(const ScoresByTask& scores, const BootstrapOptions& options = {});
Interval median_interval(const ScoresByTask& scores, const BootstrapOptions& options = {});
Interval optimality_gap_interval(const ScoresByTask& scores, double threshold = 1.0,
                                 const BootstrapOptions& options = {});
// The performance profile at each tau with its pointwise band.
std::vector<Interval> performance_profile(const ScoresByTask& scores, const std::vector<double>& taus,
                                          const BootstrapOptions& options = {});
// P(X > Y) averaged over tasks (rliable's probability of improvement), with its interval.
Interval probability_of_improvement_interval(const ScoresByTask& x, const ScoresByTask& y,
                                             const BootstrapOptions& options = {});

}  // namespace rlforge::stats
