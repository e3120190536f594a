#pragma once
// Stress tests: how a trained policy's return holds up under distribution shift and attack.
//
// A suite lists perturbations; each is a grid of settings (the product of its axes) run on top of
// the run's env. An axis is one of
//   env.OPTION       an env option (physical parameters: gravity, masses, engine power, ...)
//   wrapper.OPTION   an option of the perturbation's wrapper (rlforge/envs/perturbations.h:
//                    observation noise, sensor failures, delays, sticky actions, frame drops)
//   attack.epsilon   the radius of an observation attack (attacks.h)
// Every cell plays the same held-out stress seeds (common random numbers: the cells differ only
// in the perturbation), and reports the mean return and the IQM with a 95% bootstrap interval
// over its episodes. Observation noise and attack radii on vector observations are in units of
// the per-element standard deviation of the observations the policy saw on its clean episodes.
// Given a drift monitor (drift.h), every cell also reports its episodes' mean novelty and the share
// of them that raise the monitor's alarm: how visible each shift is to the monitor. For agents
// that can bound their policy, attack cells also report the share of clean states certified at
// their radius.
//
// Suite files (YAML):
//   episodes: 20                   # per cell (optional; `rlforge stress --episodes` overrides)
//   perturbations:
//     - name: gravity and wind
//       env_options: {enable_wind: true}
//       grid: {env.gravity: [-11.9, -8, -4], env.wind_power: [0, 10, 20]}
//     - name: observation noise
//       wrapper: ObservationNoise    # or {name: SensorFailure, options: {mode: stuck}}
//       grid: {wrapper.std: [0, 0.1, 0.3, 1]}
//     - name: pgd
//       attack: {method: pgd, objective: action, steps: 10, step_size: 0}
//       grid: {attack.epsilon: [0, 0.05, 0.1, 0.2]}

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/evaluation/attacks.h"
#include "rlforge/evaluation/drift.h"
#include "rlforge/stats/bootstrap.h"

namespace rlforge {

struct StressAxis {
  std::string key;                  // env.OPTION, wrapper.OPTION or attack.epsilon
  std::vector<std::string> values;  // as written (the env or wrapper converts them)
};

struct StressPerturbation {
  std::string name;
  Options env_options;                 // fixed for every cell
  std::optional<WrapperSpec> wrapper;  // with its fixed options
  std::optional<AttackSettings> attack;
  std::vector<StressAxis> grid;
};

struct StressSuite {
  std::string source;  // the file, or "default suite for ID"
  int64_t episodes = 20;
  std::vector<StressPerturbation> perturbations;
};

// Throws std::runtime_error "FILE:LINE: what" for a malformed suite (unknown keys, an axis that
// names no env option, wrapper option or attack radius, an empty grid).
StressSuite read_stress_suite(const std::string& path);
// The suite `rlforge stress` runs without --suite: the env's physical parameters (where it
// declares them), observation noise, stuck and dropped sensors, observation and action delays,
// action noise, sticky actions, frame drops (images) and FGSM/PGD attacks on action and value.
StressSuite default_stress_suite(const EnvSpec& spec);
// The suite as a suite file (written beside the results, so that a run can be repeated).
std::string stress_suite_yaml(const StressSuite& suite);

struct StressCell {
  std::vector<std::pair<std::string, std::string>> setting;  // axis key -> value
  std::vector<double> returns;                               // one per episode, in seed order
  double mean_return = 0, mean_length = 0;
  stats::Interval iqm;  // point and 95% stratified-bootstrap interval over episodes
  // With a monitor: each episode's novelty (seed order), their mean, the share above its threshold.
  std::vector<double> novelties;
  double mean_novelty = 0, alarm_rate = 0;
  // Attack cells of an agent that can bound its policy (Agent::certify_actions): the share of the
  // clean episodes' states whose action no observation in the cell's ball can change, proven by
  // interval bounds (a floor under robustness to every attack of that radius, not one attack's result).
  std::optional<double> certified_share;
};

struct StressPerturbationResult {
  std::string name, description;
  std::vector<StressCell> cells;
  int64_t cells_below = 0;  // IQM below the threshold (when there is one)
  std::string summary;      // one line: where the return first falls below the threshold
};

struct StressReport {
  std::string env_id, suite_source;
  uint64_t seed = 0;
  int64_t episodes = 0;
  std::optional<double> threshold;  // the env's reward threshold, or --threshold
  StressCell clean;
  std::vector<float> observation_std;  // what noise and attack radii are measured in (vectors)
  int64_t certified_states = 0;        // the clean states certification was tried on (0: none)
  std::optional<double> monitor_threshold;  // set when a drift monitor scored the episodes
  std::vector<StressPerturbationResult> perturbations;
  double seconds = 0;
};

struct StressSettings {
  uint64_t seed = 0;  // of the stress episodes (rlforge/envs/seeds.h: seeds::stress)
  int64_t episodes = 20;
  int num_envs = 16;  // episodes at once
  int threads = 1;
  bool deterministic = true;
  std::optional<double> threshold;
  // The unit of noise and radii on vector observations; empty: the stds of this policy's own clean
  // episodes. Comparing agents needs one unit for all of them (`rlforge stress --unit-from`).
  std::vector<float> observation_std;
  std::function<void(const std::string&)> progress;  // one line per perturbation (and per cell with a monitor)
  // Scores every episode's novelty when set (float vector observations only); must outlive the run.
  const DriftMonitor* monitor = nullptr;
};

// The observation stds a stress.yaml was measured in (its `observation_std`).
std::vector<float> stress_observation_std(const std::string& stress_yaml);

// Runs every cell of `suite` with `agent` on `env` (its randomisation, if any, is dropped: each
// cell is one fixed condition).
StressReport run_stress(Agent& agent, const VectorEnvConfig& env, const StressSuite& suite,
                        const StressSettings& settings);

// stress.yaml (every cell: setting, mean, IQM and its interval, episodes, and with a monitor the mean
// novelty and alarm rate; the summaries), stress.csv
// (one row per cell) and one PNG per perturbation (IQM against the grid, with interval bands and
// the threshold), all written atomically into `dir`. Returns the PNG paths.
std::vector<std::string> write_stress_report(const StressReport& report, const std::string& dir);

}  // namespace rlforge

namespace rlforge {

// Stress results of several agents (one stress.yaml per run, several runs per agent) side by side:
// per cell and agent, the IQM over runs of each run's mean return, with a 95% stratified bootstrap
// interval over runs, and per perturbation the share of cells whose IQM keeps the threshold.
struct StressGroup {
  std::string label;
  std::vector<std::string> dirs;  // each holds a stress.yaml (or RUN/stress/stress.yaml)
};

struct StressComparisonCell {
  std::string setting;                     // "env.gravity = -10, env.wind_power = 5"
  std::vector<std::string> axis_values;    // the setting's values, axis by axis
  std::vector<stats::Interval> iqm;        // per group
  std::vector<std::vector<double>> runs;   // per group: each run's mean return
  // per group: the mean over runs of the cell's certified share, where every run reports one
  std::vector<std::optional<double>> certified_share;
};

struct StressComparisonPerturbation {
  std::string name;
  std::vector<std::string> axes;
  std::vector<StressComparisonCell> cells;
  std::vector<int64_t> cells_kept;  // per group: cells with IQM >= threshold
};

struct StressComparison {
  std::vector<std::string> labels;
  std::vector<int64_t> runs;  // per group
  std::string env_id;
  std::optional<double> threshold;
  int64_t episodes_per_cell = 0;
  std::vector<StressComparisonPerturbation> perturbations;  // those every run has, cell for cell
};

// Throws std::runtime_error naming the file when a stress.yaml is missing or damaged, or when runs
// were stressed on other envs or other cells.
StressComparison compare_stress(const std::vector<StressGroup>& groups);
// compare.yaml and one PNG per perturbation (per value of its later axes, for grids of several
// axes), written atomically into `dir`. Returns the PNG paths.
std::vector<std::string> write_stress_comparison(const StressComparison& comparison, const std::string& dir);

}  // namespace rlforge
