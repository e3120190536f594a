#pragma once
// A drift monitor: is today's input still like what the policy met when it was checked? Models
// fitted on episodes of the policy in its own env:
//   states       the observations' mean and covariance (a Gaussian);
//   transitions  linear models of the change of observation given the observation and the
//                action, one per regime, each with the covariance of its residuals. A regime is
//                the action taken (discrete actions) and the values of the observation's flags
//                (elements that were only ever 0 or 1, such as LunarLander's leg contacts) before
//                and after the step. Per regime, because a step's noise differs by orders of
//                magnitude between them: a lander drifting with its engines off follows its
//                physics almost exactly, one firing its main engine does not (random dispersion),
//                one whose legs touch down does not either. One pooled model, as the first monitor
//                had, takes the engines' noise for the whole flight's and misses a weaker gravity.
//                Regimes too rare in the fit use a model fitted on every transition.
// An episode's novelty is the sum, divided by the number of observation elements, of
//   states       the mean squared Mahalanobis distance of its observations;
//   transitions  the mean squared Mahalanobis distance of its transitions' residuals;
//   persistent   per regime, n r̄ᵀ Σ⁻¹ r̄ for the mean r̄ of the episode's n residuals in it, summed:
//                a shift in the physics (gravity) biases every step's residual the same way, so
//                this grows with the episode's length while independent noise averages out.
// In distribution each part is about a chi-square of F degrees of freedom (persistent: F per
// regime the episode visits). The alarm threshold is the 95th percentile of the novelty of
// episodes on other seeds than the fit's, so about 5% of in-distribution episodes raise a (false)
// alarm by construction.

#include <cstdint>
#include <string>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/evaluation/evaluation.h"

namespace rlforge {

struct DriftMonitor {
  // The `kind` of monitor.yaml; files of another kind (older monitors) are refused on load.
  static constexpr const char* kKind = "gaussian states and per-regime linear transitions";
  // At most this many flag elements split regimes (2^4 patterns before and after a step).
  static constexpr int64_t kMaxFlags = 4;

  std::string env_id;
  std::vector<std::string> names;
  std::vector<double> mean;       // [F]
  std::vector<double> precision;  // [F x F], the inverse of the (slightly ridged) covariance
  std::vector<double> std;        // [F], each element's standard deviation
  // Transitions: delta = [obs, action features, 1] x weights, in every regime.
  int64_t action_features = 0;  // one-hot width (Discrete) or the action's elements (Box)
  bool discrete_actions = false;
  std::vector<int64_t> flag_elements;  // observation elements read as flags (> 0.5: set)
  struct Regime {
    int64_t action = -1;        // the discrete action; -1: any
    int64_t flags_before = -1;  // bit k: flag_elements[k] set before the step; -1: any
    int64_t flags_after = -1;   // ... and after it
    int64_t transitions = 0;    // fitted on
    std::vector<double> weights;             // [(F + action_features + 1) x F]
    std::vector<double> residual_precision;  // [F x F]
  };
  std::vector<Regime> regimes;  // regimes[0]: any transition, for those whose regime has no model
  double threshold = 0;         // the calibration episodes' 95th percentile of novelty
  int64_t fit_episodes = 0, calibration_episodes = 0;

  struct Episode {
    std::vector<std::vector<float>> observations;  // before each step
    std::vector<std::vector<float>> actions;       // taken at each step (Discrete: the index)
  };
  struct Novelty {
    double states = 0, transitions = 0, persistent = 0;  // each already divided by F
    double total() const { return states + transitions + persistent; }
  };
  Novelty score(const Episode& episode) const;
  double novelty(const Episode& episode) const { return score(episode).total(); }
  bool alarm(double novelty) const { return novelty > threshold; }
  // The index into `regimes` of the model that predicts the step from `before` to `after`.
  std::size_t regime_of(const std::vector<float>& before, const std::vector<float>& action,
                        const std::vector<float>& after) const;
  std::string yaml() const;
  // Throws std::runtime_error "PATH: ..." (one line) when the file is not a monitor of this kind.
  static DriftMonitor load(const std::string& path);
};

// Episodes with what the policy saw and did, and their returns (run_episodes' protocol: episode i
// of env k is episode k + i * num_envs, whatever the vector env's size). The observations are the
// env's, before the policy: an observation attack inside `policy` is not seen.
struct MonitoredEpisodes {
  EpisodeOutcomes outcomes;
  std::vector<DriftMonitor::Episode> episodes;
};
MonitoredEpisodes run_monitored_episodes(const BatchPolicy& policy, const VectorEnvConfig& config, int64_t episodes,
                                         uint64_t seed, const ObservationHook& hook = {});

// `episodes` episodes of the agent's most likely actions, one after another on one env (seeds
// from `seed`).
std::vector<DriftMonitor::Episode> monitored_episodes(Agent& agent, const VectorEnvConfig& env, int64_t episodes,
                                                      uint64_t seed);

// Whether the monitor can watch `spec`'s observations; if not, `why` says so in one line.
bool drift_monitor_applies(const EnvSpec& spec, std::string* why = nullptr);

// Fits on `fit` episodes from `fit_seed`, calibrates the threshold on `calibration` others.
DriftMonitor fit_drift_monitor(Agent& agent, const VectorEnvConfig& env, int64_t fit, uint64_t fit_seed,
                               int64_t calibration, uint64_t calibration_seed);
// The same from recorded episodes.
DriftMonitor fit_drift_monitor(const EnvSpec& spec, const std::vector<DriftMonitor::Episode>& fit,
                               const std::vector<DriftMonitor::Episode>& calibration);

// The probability that a shifted episode scores above an in-distribution one (ties count half).
double auroc(const std::vector<double>& in_distribution, const std::vector<double>& shifted);
// The share of scores above the monitor's threshold.
double alarm_rate(const DriftMonitor& monitor, const std::vector<double>& novelties);

}  // namespace rlforge
