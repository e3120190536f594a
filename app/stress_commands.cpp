#include "stress_commands.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <iostream>
#include <memory>
#include <optional>

#include "cli_errors.h"
#include "env_commands.h"
#include "explain_commands.h"
#include "loaded_agent.h"
#include "rlforge/data/atomic_file.h"
#include "rlforge/envs/seeds.h"
#include "rlforge/evaluation/stress.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

struct StressArgs {
  std::string target;
  std::string suite;
  std::string out;
  int64_t episodes = 0;  // 0: the suite's
  int64_t seed = -1;     // -1: the run's stress seeds
  double threshold = std::numeric_limits<double>::quiet_NaN();
  int envs = 16;
  int threads = 1;
  bool stochastic = false;
  bool print_suite = false;
  bool monitor = false;  // fit RUN/monitor.yaml when missing (an existing one is always used)
  std::vector<std::string> compare;  // LABEL=DIR[,DIR...]
  std::string unit_from;             // a stress.yaml whose observation stds are the unit
  std::vector<std::string> plugins;
};

// Several agents' stress results side by side (compare_stress).
int compare(const StressArgs& args) {
  if (!args.target.empty()) throw std::runtime_error("stress --compare takes no RUN: give LABEL=DIR[,DIR...] groups");
  std::vector<StressGroup> groups;
  for (const std::string& text : args.compare) {
    const std::size_t eq = text.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == text.size()) {
      throw std::runtime_error("--compare " + text + ": expected LABEL=DIR[,DIR...] (each DIR holds a stress.yaml)");
    }
    StressGroup g;
    g.label = text.substr(0, eq);
    std::size_t start = eq + 1;
    while (start <= text.size()) {
      const std::size_t end = std::min(text.find(',', start), text.size());
      if (end > start) g.dirs.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    groups.push_back(std::move(g));
  }
  const StressComparison comparison = compare_stress(groups);
  const std::string out = args.out.empty() ? "stress-compare" : args.out;
  const std::vector<std::string> plots = write_stress_comparison(comparison, out);
  for (const StressComparisonPerturbation& p : comparison.perturbations) {
    std::cout << p.name << ":";
    for (std::size_t g = 0; g < groups.size(); ++g) {
      if (comparison.threshold) {
        std::cout << "  " << groups[g].label << " keeps IQM >= " << *comparison.threshold << " on " << p.cells_kept[g]
                  << " of " << p.cells.size() << " cells";
      }
    }
    std::cout << "\n";
    // Attack cells whose runs all carry a certified share: each group's mean, cell by cell.
    std::string certified;
    for (const StressComparisonCell& c : p.cells) {
      std::string shares;
      for (std::size_t g = 0; g < groups.size(); ++g) {
        if (!c.certified_share[g]) continue;
        char share[32];
        std::snprintf(share, sizeof share, "%.1f%%", 100.0 * *c.certified_share[g]);
        shares += (shares.empty() ? "" : ", ") + groups[g].label + " " + share;
      }
      if (!shares.empty()) certified += (certified.empty() ? "" : "; ") + c.setting + ": " + shares;
    }
    if (!certified.empty()) std::cout << "  certified share (mean over runs): " << certified << "\n";
  }
  std::cout << "results: " << (fs::path(out) / "compare.yaml").string() << ", " << plots.size() << " plots" << std::endl;
  return 0;
}

int stress(const StressArgs& args) {
  if (!args.compare.empty()) return compare(args);
  if (args.target.empty()) throw std::runtime_error("stress: give RUN (a run directory or checkpoint), or --compare");
  load_plugins(args.plugins);
  const bool given_seed = args.seed >= 0;
  LoadedAgent loaded = load_agent(args.target, std::nullopt);
  if (loaded.config.env.id.empty()) {
    throw std::runtime_error(args.target + ": the run learned from a table; stress tests need an env");
  }
  const uint64_t seed = given_seed ? static_cast<uint64_t>(args.seed) : seeds::stress(loaded.config.run.seed);
  const EnvSpec spec = make_configured_env(loaded.config.env)->spec();
  StressSuite suite = args.suite.empty() ? default_stress_suite(spec) : read_stress_suite(args.suite);
  if (args.episodes > 0) suite.episodes = args.episodes;
  if (args.print_suite) {
    std::cout << stress_suite_yaml(suite);
    return 0;
  }
  const fs::path out = !args.out.empty()                  ? fs::path(args.out)
                       : fs::is_directory(args.target)   ? fs::path(args.target) / "stress"
                                                         : fs::path("stress");
  fs::create_directories(out);
  StressSettings settings;
  settings.seed = seed;
  settings.episodes = suite.episodes;
  settings.num_envs = args.envs;
  settings.threads = args.threads;
  settings.deterministic = !args.stochastic;
  if (!std::isnan(args.threshold)) settings.threshold = args.threshold;
  if (!args.unit_from.empty()) settings.observation_std = stress_observation_std(args.unit_from);
  // The run's drift monitor scores every cell's episodes when it has one (or --monitor fits it).
  std::optional<DriftMonitor> monitor;
  std::string not_watched;
  if (!drift_monitor_applies(spec, &not_watched)) {
    if (args.monitor || fs::exists(run_monitor_file(args.target))) {
      std::cout << "monitor: does not apply (" << not_watched << ")" << std::endl;
    }
  } else if (args.monitor || fs::exists(run_monitor_file(args.target))) {
    monitor = run_drift_monitor(args.target, loaded, false, kMonitorFitEpisodes, std::cout);
    settings.monitor = &*monitor;
  }
  settings.progress = [](const std::string& line) { std::cout << line << std::endl; };
  std::cout << "stress: " << loaded.checkpoint << " (" << loaded.info.env_steps << " env steps) on " << spec.id << ", "
            << suite.source << ": " << suite.perturbations.size() << " perturbations, " << suite.episodes
            << " episodes per cell, seeds " << seed << " + i" << (given_seed ? "" : " (the run's stress seeds)")
            << std::endl;
  const StressReport report = run_stress(*loaded.agent, loaded.config.env, suite, settings);
  write_data_file_atomically((out / "suite.yaml").string(), stress_suite_yaml(suite));
  const std::vector<std::string> plots = write_stress_report(report, out.string());
  std::cout << "stress: " << report.perturbations.size() << " perturbations in " << report.seconds << " s\n"
            << "results: " << (out / "stress.yaml").string() << ", " << (out / "stress.csv").string() << ", "
            << plots.size() << " plots, the suite in " << (out / "suite.yaml").string() << std::endl;
  return 0;
}

}  // namespace

void add_stress_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<StressArgs>();
  auto* cmd = app.add_subcommand(
      "stress", "Stress-test a trained policy: returns under env parameter shifts, observation noise, sensor "
                "failures, delays, action noise, sticky actions and FGSM/PGD observation attacks, with IQM intervals");
  cmd->add_option("RUN", args->target, "Run directory (its best checkpoint) or checkpoint file");
  cmd->add_option("--compare", args->compare,
                  "Instead of a run: LABEL=DIR[,DIR...] (repeatable), the stress results of each group's runs side by "
                  "side: per cell the IQM over runs with a 95% bootstrap interval, the share of cells kept above the "
                  "threshold, plots");
  cmd->add_option("--suite", args->suite, "A suite file (YAML, see docs/robustness.md); default: the env's own suite");
  cmd->add_option("--episodes", args->episodes, "Episodes per cell (default: the suite's, 20)")->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--out", args->out, "Where the results go (default: RUN/stress)");
  cmd->add_option("--seed", args->seed,
                  "First seed of the stress episodes (>= 0); default: the run's run.seed + 3000000, which training "
                  "and its evaluations never use")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threshold", args->threshold, "Return a cell must keep (default: the env's reward threshold)");
  cmd->add_option("--envs", args->envs, "Episodes run at once")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", args->threads, "Threads stepping them")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--unit-from", args->unit_from,
                  "A stress.yaml whose observation stds are the unit of noise and attack radii (so that several "
                  "agents meet the same perturbations; one frame's stds are tiled over a FrameStack); default: this policy's own "
                  "clean episodes")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--stochastic", args->stochastic, "Sample actions instead of taking the most likely");
  cmd->add_flag("--monitor", args->monitor,
                "Score every episode's novelty with the run's drift monitor, fitting RUN/monitor.yaml first if "
                "missing (an existing RUN/monitor.yaml is always used): each cell's mean novelty and alarm rate");
  cmd->add_flag("--print-suite", args->print_suite, "Print the suite (the default one, or --suite's) as YAML and stop");
  add_plugin_option(*cmd, args->plugins);
  cmd->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return stress(*args); }); });
}

}  // namespace rlforge::cli
