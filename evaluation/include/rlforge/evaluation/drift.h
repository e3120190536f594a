#pragma once
// A drift monitor: is today's input still like what the policy met when it was checked? Two
// Gaussian models fitted on episodes of the policy in its own env:
//   states       the observations' mean and covariance;
//   transitions  a linear model of the change of observation given the observation and the
//                action, and the covariance of its residuals (a shift in the physics, such as
//                gravity, moves where the next observation lands more than where states are).
// An episode's novelty is the mean squared Mahalanobis distance of its observations (states) plus
// that of its transition residuals, each divided by the number of elements. The alarm threshold
// is the 95th percentile of held-out in-distribution episodes' novelty, so about 5% of
// in-distribution episodes raise a (false) alarm by construction.

#include <cstdint>
#include <string>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/envs/vector_env.h"

namespace rlforge {

struct DriftMonitor {
  std::string env_id;
  std::vector<std::string> names;
  std::vector<double> mean;       // [F]
  std::vector<double> precision;  // [F x F], the inverse of the (slightly ridged) covariance
  std::vector<double> std;        // [F], each element's standard deviation
  // Transitions: delta = [obs, action features, 1] x weights; residual precision [F x F].
  int64_t action_features = 0;            // one-hot width (Discrete) or the action's elements (Box)
  bool discrete_actions = false;
  std::vector<double> weights;            // [(F + action_features + 1) x F]
  std::vector<double> residual_precision; // [F x F]
  double threshold = 0;           // the calibration episodes' 95th percentile of novelty
  int64_t fit_episodes = 0, calibration_episodes = 0;

  struct Episode {
    std::vector<std::vector<float>> observations;  // before each step
    std::vector<std::vector<float>> actions;       // taken at each step (Discrete: the index)
  };
  double novelty(const Episode& episode) const;
  std::string yaml() const;
  // Throws std::runtime_error naming the file when it is not a monitor rlforge wrote.
  static DriftMonitor load(const std::string& path);
};

// `episodes` episodes of the policy, one after another on one env (seeds from `seed`).
std::vector<DriftMonitor::Episode> monitored_episodes(Agent& agent, const VectorEnvConfig& env, int64_t episodes,
                                                      uint64_t seed);

// Fits on `fit` episodes from `fit_seed`, calibrates the threshold on `calibration` others.
DriftMonitor fit_drift_monitor(Agent& agent, const VectorEnvConfig& env, int64_t fit, uint64_t fit_seed,
                               int64_t calibration, uint64_t calibration_seed);

// The probability that a shifted episode scores above an in-distribution one (ties count half).
double auroc(const std::vector<double>& in_distribution, const std::vector<double>& shifted);

}  // namespace rlforge
