#pragma once

// Point estimates of an algorithm's performance over runs, as defined by Agarwal et al., "Deep
// Reinforcement Learning at the Edge of the Statistical Precipice" (NeurIPS 2021) and their
// rliable library, so that figures can be compared with papers that use it.

#include <vector>

namespace rlforge::stats {

// Final scores of one algorithm: one vector per task (env), each holding one score per run
// (seed). Tasks may have different numbers of runs (then the pooled statistics weigh a task by
// its runs, as rliable does with its runs x tasks matrix when all tasks have the same number);
// none may be empty.
using ScoresByTask = std::vector<std::vector<double>>;

// Throws std::invalid_argument naming the problem when `scores` has no task, a task has no run,
// or a score is not finite.
void check_scores(const ScoresByTask& scores);

// All scores of all tasks in one vector (the order of tasks, then runs).
std::vector<double> flatten(const ScoresByTask& scores);

double mean(const std::vector<double>& values);
double median(const std::vector<double>& values);

// Interquartile mean: the mean of the values left after sorting and dropping floor(n / 4) from
// each end (scipy.stats.trim_mean with proportion 0.25, which rliable uses). Equals the mean for
// n < 4.
double interquartile_mean(const std::vector<double>& values);

// Mean shortfall below `threshold` (rliable's default 1, a normalised score of "solved"): the
// mean of max(threshold - x, 0). Lower is better.
double optimality_gap(const std::vector<double>& values, double threshold = 1.0);

// Linear-interpolation percentile (numpy's default), q in [0, 100].
double percentile(std::vector<double> values, double q);

// Fraction of `values` strictly above each threshold: a point of the performance profile
// (the run-score distribution) at each tau.
std::vector<double> fraction_above(const std::vector<double>& values, const std::vector<double>& taus);

// P(X > Y) for one task: the Mann-Whitney U statistic over all pairs, ties counting one half.
double probability_of_improvement(const std::vector<double>& x, const std::vector<double>& y);

// Min-max normalisation: (score - random) / (reference - random), so that a random policy scores
// 0 and the reference 1. Throws std::invalid_argument when reference == random.
double normalise(double score, double random_score, double reference_score);

}  // namespace rlforge::stats
