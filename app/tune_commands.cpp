#include "tune_commands.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "child_process.h"
#include "cli_errors.h"
#include "rlforge/render/plot.h"
#include "rlforge/trainers/config.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

struct TuneArgs {
  std::string config;
  std::vector<std::string> params, overrides;
  int trials = 0;
  int jobs = 1;
  std::string prune = "median";
  std::string objective = "final";
  int startup_trials = 5;
  int trial_seeds = 1;
  std::string study;
  std::string out;
  int64_t seed = 0;
};

// KEY=DIST's key and one value it may take (to check the key against the config schema), after
// checking DIST's form: loguniform:LOW:HIGH, uniform:LOW:HIGH, int:LOW:HIGH, choice:A,B,...
std::pair<std::string, std::string> key_and_sample(const std::string& param) {
  const std::size_t eq = param.find('=');
  const std::size_t colon = param.find(':', eq == std::string::npos ? 0 : eq);
  const std::string usage =
      "--param " + param + ": expected KEY=DIST, DIST one of loguniform:LOW:HIGH, uniform:LOW:HIGH, int:LOW:HIGH, choice:A,B,...";
  if (eq == std::string::npos || eq == 0 || colon == std::string::npos) throw std::invalid_argument(usage);
  const std::string key = param.substr(0, eq), kind = param.substr(eq + 1, colon - eq - 1), rest = param.substr(colon + 1);
  if (kind == "choice") {
    const std::size_t comma = rest.find(',');
    if (comma == std::string::npos || comma == 0) throw std::invalid_argument("--param " + param + ": a choice needs at least two values");
    return {key, rest.substr(0, comma)};
  }
  if (kind != "loguniform" && kind != "uniform" && kind != "int") throw std::invalid_argument(usage);
  const std::size_t sep = rest.find(':');
  if (sep == std::string::npos) throw std::invalid_argument(usage);
  const std::string low = rest.substr(0, sep), high = rest.substr(sep + 1);
  double lo = 0, hi = 0;
  try {
    std::size_t used_lo = 0, used_hi = 0;
    lo = std::stod(low, &used_lo);
    hi = std::stod(high, &used_hi);
    if (used_lo != low.size() || used_hi != high.size()) throw std::invalid_argument(low);
  } catch (const std::exception&) {
    throw std::invalid_argument("--param " + param + ": bounds '" + low + "' and '" + high + "' must be numbers");
  }
  if (!(lo < hi) || (kind == "loguniform" && lo <= 0)) {
    throw std::invalid_argument("--param " + param + ": expected LOW < HIGH" + (kind == "loguniform" ? " and LOW > 0" : ""));
  }
  if (kind == "int" && (low.find_first_of(".eE") != std::string::npos || high.find_first_of(".eE") != std::string::npos)) {
    throw std::invalid_argument("--param " + param + ": int bounds must be integers");
  }
  return {key, low};
}

// The driver beside an installed rlforge (PREFIX/share/rlforge), else the source tree's.
std::string driver_path() {
  if (const char* env = std::getenv("RLFORGE_TUNE_DRIVER")) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "rlforge" / "tune_driver.py";
    if (fs::exists(installed)) return installed.string();
  }
  return RLFORGE_TUNE_DRIVER_SOURCE;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream s(line);
  for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// trials.png: each trial's score (pruned trials: the last value they reported) and the best so far.
void plot_trials(const fs::path& out) {
  std::ifstream in(out / "trials.csv");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error((out / "trials.csv").string() + ": empty");
  PlotSeries complete, pruned, best;
  complete.name = "completed trial";
  complete.color = {31, 119, 180};
  complete.markers = true;
  pruned.name = "pruned trial (last reported)";
  pruned.color = {214, 39, 40};
  pruned.markers = true;
  best.name = "best so far";
  best.color = {44, 160, 44};
  double best_value = -INFINITY;
  while (std::getline(in, line)) {
    const std::vector<std::string> c = split_csv_line(line);
    if (c.size() < 5) continue;
    const double number = std::stod(c[0]);
    if (c[1] == "COMPLETE" && !c[2].empty()) {
      const double value = std::stod(c[2]);
      complete.x.push_back(number);
      complete.y.push_back(value);
      complete.x.push_back(number);  // a lone point: markers only, no line to the next trial
      complete.y.push_back(NAN);
      best_value = std::max(best_value, value);
    } else if (c[1] == "PRUNED" && !c[4].empty()) {
      pruned.x.push_back(number);
      pruned.y.push_back(std::stod(c[4]));
      pruned.x.push_back(number);
      pruned.y.push_back(NAN);
    }
    if (std::isfinite(best_value)) {
      best.x.push_back(number);
      best.y.push_back(best_value);
    }
  }
  PlotSpec spec{"rlforge tune: trial scores", "trial", "score (validation evaluations)", {complete, pruned, best}};
  write_plot_png(spec, (out / "trials.png").string());
}

volatile sig_atomic_t interrupted = 0;
extern "C" void note_interrupt(int) { interrupted = 1; }

int tune(const TuneArgs& args) {
  if (args.trials < 1) throw std::invalid_argument("--trials " + std::to_string(args.trials) + ": expected at least 1");
  const ExperimentConfig config = load_config(args.config, args.overrides);
  if (config.learns_from_data()) throw ConfigError(args.config + ": rlforge tune searches RL configs (ppo, dqn)");
  for (const std::string& param : args.params) {
    // The key must exist and take the distribution's values: load the config with one of them.
    const auto [key, sample] = key_and_sample(param);
    std::vector<std::string> overrides = args.overrides;
    overrides.push_back(key + "=" + sample);
    try {
      load_config(args.config, overrides);
    } catch (const std::exception& e) {
      throw std::invalid_argument("--param " + param + ": " + e.what());
    }
  }
  const std::string out = args.out.empty() ? (fs::path(config.run.out_dir) / (config.run.name + "-tune")).string() : args.out;
  const std::string study = args.study.empty() ? (fs::path(out) / "study.db").string() : args.study;
  const std::string driver = driver_path();
  if (!fs::exists(driver)) throw std::runtime_error("the tuning driver " + driver + " is missing (set RLFORGE_TUNE_DRIVER)");
  const char* python_env = std::getenv("RLFORGE_PYTHON");
  const std::string python = python_env != nullptr ? python_env : "/usr/bin/python3";
  if (!fs::exists(python)) {
    throw std::runtime_error(python + " is missing: rlforge tune runs Debian's python3 with python3-optuna "
                             "(scripts/install-deps.sh installs both; RLFORGE_PYTHON names another)");
  }

  fs::create_directories(out);
  std::vector<std::string> argv{python, driver, "--rlforge", fs::read_symlink("/proc/self/exe").string(),
                                "--config", args.config, "--trials", std::to_string(args.trials),
                                "--jobs", std::to_string(args.jobs), "--prune", args.prune,
                                "--objective", args.objective, "--startup-trials", std::to_string(args.startup_trials),
                                "--study", study, "--out", out, "--seed", std::to_string(args.seed),
                                // As the RL Zoo: no pruning in the first third of a trial's budget, where
                                // evaluations say little about where a run ends.
                                "--warmup-steps", std::to_string(config.trainer.total_steps / 3),
                                "--trial-seeds", std::to_string(args.trial_seeds),
                                "--base-seed", std::to_string(config.run.seed)};
  for (const std::string& p : args.params) argv.insert(argv.end(), {"--param", p});
  for (const std::string& s : args.overrides) argv.insert(argv.end(), {"--set", s});
  std::cout << "tuning " << args.config << ": " << args.trials << " trials, " << args.jobs << " at a time, into " << out
            << " (study " << study << ")" << std::endl;
  // Ctrl-C reaches the driver and its trials (one process group); wait for them to stop.
  signal(SIGINT, note_interrupt);
  signal(SIGTERM, note_interrupt);
  const pid_t pid = start_process(python, argv, {});
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (interrupted != 0) {
    std::cout << "stopped; run the same command again to continue the study " << study << std::endl;
    return 130;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;  // the driver printed its one line
  plot_trials(out);
  std::cout << "best config: " << (fs::path(out) / "best.yaml").string() << "\n"
            << "summary: " << (fs::path(out) / "tune.yaml").string() << "\n"
            << "trials: " << (fs::path(out) / "trials.csv").string() << ", plot " << (fs::path(out) / "trials.png").string()
            << std::endl;
  return 0;
}

}  // namespace

void add_tune_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TuneArgs>();
  auto* cmd = app.add_subcommand(
      "tune", "Hyperparameter search with Optuna (TPE sampler, median pruner) over real training runs; rerun the same "
              "command to continue a stopped search");
  cmd->add_option("CONFIG", args->config, "YAML config to start from")->required();
  cmd->add_option("--param", args->params,
                  "KEY=DIST to search (repeatable): loguniform:LOW:HIGH, uniform:LOW:HIGH, int:LOW:HIGH or choice:A,B,...")
      ->required();
  cmd->add_option("--set", args->overrides, "Override a config key for every trial: key.path=value (repeatable)");
  cmd->add_option("--trials", args->trials, "Trials in the study (ended ones count on resume)")->required();
  cmd->add_option("--jobs", args->jobs, "Trials at a time")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--prune", args->prune, "Stop trials below the median of earlier ones at the same step")
      ->capture_default_str()->check(CLI::IsMember({"median", "none"}));
  cmd->add_option("--objective", args->objective,
                  "A trial's score: the last in-training evaluation (final), or the mean of all of them (curve: the "
                  "area under the learning curve, which rewards learning sooner)")
      ->capture_default_str()->check(CLI::IsMember({"final", "curve"}));
  cmd->add_option("--startup-trials", args->startup_trials, "Random trials before TPE models, and before pruning starts")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--trial-seeds", args->trial_seeds,
                  "Seeds each trial trains on, at once (run.seed, run.seed + 1, ...); its score is their mean")
      ->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("--study", args->study, "SQLite file of the study (default: OUT/study.db)");
  cmd->add_option("--out", args->out, "Folder of trials and results (default: run.out_dir/NAME-tune)");
  cmd->add_option("--seed", args->seed, "Seed of the sampler")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return tune(*args); }); });
}

}  // namespace rlforge::cli
