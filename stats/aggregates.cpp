#include "rlforge/stats/aggregates.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace rlforge::stats {

namespace {

void require_values(const std::vector<double>& values, const char* what) {
  if (values.empty()) throw std::invalid_argument(std::string(what) + ": no values");
}

}  // namespace

void check_scores(const ScoresByTask& scores) {
  if (scores.empty()) throw std::invalid_argument("scores: no task");
  for (std::size_t t = 0; t < scores.size(); ++t) {
    if (scores[t].empty()) throw std::invalid_argument("scores: task " + std::to_string(t) + " has no run");
    for (std::size_t r = 0; r < scores[t].size(); ++r) {
      if (!std::isfinite(scores[t][r])) {
        throw std::invalid_argument("scores: task " + std::to_string(t) + ", run " + std::to_string(r) +
                                    " is not a finite number");
      }
    }
  }
}

std::vector<double> flatten(const ScoresByTask& scores) {
  std::vector<double> all;
  for (const auto& task : scores) all.insert(all.end(), task.begin(), task.end());
  return all;
}

double mean(const std::vector<double>& values) {
  require_values(values, "mean");
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double median(const std::vector<double>& values) { return percentile(values, 50.0); }

double interquartile_mean(const std::vector<double>& values) {
  require_values(values, "interquartile_mean");
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t cut = sorted.size() / 4;  // floor(0.25 n), as scipy's trim_mean
  double sum = 0;
  for (std::size_t i = cut; i < sorted.size() - cut; ++i) sum += sorted[i];
  return sum / static_cast<double>(sorted.size() - 2 * cut);
}

double optimality_gap(const std::vector<double>& values, double threshold) {
  require_values(values, "optimality_gap");
  double sum = 0;
  for (const double v : values) sum += std::max(threshold - v, 0.0);
  return sum / static_cast<double>(values.size());
}

double percentile(std::vector<double> values, double q) {
  require_values(values, "percentile");
  if (!(q >= 0 && q <= 100)) throw std::invalid_argument("percentile: q must lie in [0, 100], got " + std::to_string(q));
  std::sort(values.begin(), values.end());
  const double position = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  const double weight = position - static_cast<double>(below);
  return values[below] + weight * (values[above] - values[below]);
}

std::vector<double> fraction_above(const std::vector<double>& values, const std::vector<double>& taus) {
  require_values(values, "fraction_above");
  std::vector<double> fractions;
  fractions.reserve(taus.size());
  for (const double tau : taus) {
    const auto above = std::count_if(values.begin(), values.end(), [tau](double v) { return v > tau; });
    fractions.push_back(static_cast<double>(above) / static_cast<double>(values.size()));
  }
  return fractions;
}

double probability_of_improvement(const std::vector<double>& x, const std::vector<double>& y) {
  require_values(x, "probability_of_improvement (x)");
  require_values(y, "probability_of_improvement (y)");
  double wins = 0;
  for (const double a : x) {
    for (const double b : y) wins += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
  }
  return wins / (static_cast<double>(x.size()) * static_cast<double>(y.size()));
}

double normalise(double score, double random_score, double reference_score) {
  if (reference_score == random_score) {
    throw std::invalid_argument("normalise: the reference score equals the random score (" +
                                std::to_string(random_score) + ")");
  }
  return (score - random_score) / (reference_score - random_score);
}

}  // namespace rlforge::stats
