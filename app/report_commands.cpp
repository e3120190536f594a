#include "report_commands.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_errors.h"
#include "rlforge/stats/bootstrap.h"
#include "rlforge/trainers/trainer.h"

namespace rlforge::cli {

namespace {

namespace fs = std::filesystem;

struct ReportArgs {
  std::vector<std::string> paths;
  std::string out;
  int resamples = 2000;
  double confidence = 0.95;
  std::uint64_t seed = 0;
};

struct RunScore {
  std::string run_dir;
  int64_t seed = 0;
  double score = 0;
};

bool is_run_dir(const fs::path& dir) { return fs::exists(dir / "summary.yaml") && fs::exists(dir / "config.yaml"); }

YAML::Node load_yaml(const fs::path& path) {
  try {
    return YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path.string() + ": not readable YAML: " + e.what());
  }
}

// The env id and seed from config.yaml, the final evaluation's mean return from summary.yaml.
std::pair<std::string, RunScore> read_run(const fs::path& dir) {
  const YAML::Node config = load_yaml(dir / "config.yaml");
  const YAML::Node summary = load_yaml(dir / "summary.yaml");
  // yaml-cpp throws when indexing below a missing key, hence the step-by-step checks.
  const auto child = [](const YAML::Node& node, const char* key) {
    return node && node.IsMap() ? node[key] : YAML::Node();
  };
  const YAML::Node env_id = child(child(config, "env"), "id");
  const YAML::Node seed = child(child(config, "run"), "seed");
  const YAML::Node score = child(child(summary, "final_eval"), "mean_return");
  const auto scalar = [](const YAML::Node& node) { return node && node.IsScalar(); };
  if (!scalar(env_id) || !scalar(seed)) {
    throw std::runtime_error((dir / "config.yaml").string() + ": expected env.id and run.seed");
  }
  if (!scalar(score)) {
    throw std::runtime_error((dir / "summary.yaml").string() +
                             ": no final_eval.mean_return (a run stopped before its final evaluation?)");
  }
  try {
    return {env_id.as<std::string>(), RunScore{dir.string(), seed.as<int64_t>(), score.as<double>()}};
  } catch (const YAML::Exception&) {
    throw std::runtime_error(dir.string() + ": run.seed '" + seed.Scalar() + "' or final_eval.mean_return '" +
                             score.Scalar() + "' is not a number");
  }
}

// Every run named, or found one level below a named folder (an experiment), grouped by env id.
std::map<std::string, std::vector<RunScore>> collect_runs(const std::vector<std::string>& paths) {
  std::vector<fs::path> run_dirs;
  for (const std::string& path : paths) {
    if (!fs::is_directory(path)) throw std::runtime_error(path + ": not a directory");
    if (is_run_dir(path)) {
      run_dirs.emplace_back(path);
      continue;
    }
    std::vector<fs::path> inside;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_directory() && is_run_dir(entry.path())) inside.push_back(entry.path());
    }
    if (inside.empty()) {
      throw std::runtime_error(path + ": neither a run directory (config.yaml and summary.yaml) nor a folder of runs");
    }
    std::sort(inside.begin(), inside.end());
    run_dirs.insert(run_dirs.end(), inside.begin(), inside.end());
  }
  std::map<std::string, std::vector<RunScore>> by_env;
  for (const fs::path& dir : run_dirs) {
    auto [env_id, run] = read_run(dir);
    for (const RunScore& other : by_env[env_id]) {
      // Two runs of one seed are one sample counted twice: the interval would be too narrow.
      if (other.seed == run.seed) {
        throw std::runtime_error(run.run_dir + ": seed " + std::to_string(run.seed) + " of " + env_id +
                                 " is also the seed of " + other.run_dir);
      }
    }
    by_env[env_id].push_back(run);
  }
  return by_env;
}

void emit_interval(YAML::Emitter& out, const char* name, const stats::Interval& ci) {
  out << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "point" << YAML::Value
      << ci.point << YAML::Key << "lower" << YAML::Value << ci.lower << YAML::Key << "upper" << YAML::Value << ci.upper
      << YAML::EndMap;
}

std::string format_interval(const stats::Interval& ci) {
  std::ostringstream s;
  s << std::setprecision(5) << ci.point << " [" << ci.lower << ", " << ci.upper << "]";
  return s.str();
}

int report(const ReportArgs& args) {
  if (args.resamples < 2000) {
    throw std::invalid_argument("--resamples " + std::to_string(args.resamples) + ": expected at least 2000");
  }
  if (!(args.confidence > 0 && args.confidence < 1)) {
    throw std::invalid_argument("--confidence " + std::to_string(args.confidence) + ": expected a value in (0, 1)");
  }
  const auto by_env = collect_runs(args.paths);
  const stats::BootstrapOptions options{args.resamples, args.confidence, args.seed};

  YAML::Emitter out;
  out.SetDoublePrecision(10);  // 0.95, not 0.94999999999999996
  out << YAML::BeginMap;
  out << YAML::Key << "score" << YAML::Value << "final_eval.mean_return of each run's summary.yaml";
  out << YAML::Key << "bootstrap" << YAML::Value << YAML::BeginMap << YAML::Key << "method" << YAML::Value
      << "stratified percentile" << YAML::Key << "resamples" << YAML::Value << args.resamples << YAML::Key
      << "confidence" << YAML::Value << args.confidence << YAML::Key << "seed" << YAML::Value << args.seed
      << YAML::EndMap;
  out << YAML::Key << "envs" << YAML::Value << YAML::BeginMap;
  std::cout << std::left << std::setw(28) << "env" << std::setw(6) << "runs" << std::setw(30) << "IQM [95% CI]"
            << std::setw(30) << "mean [CI]" << "median [CI]\n";
  for (const auto& [env_id, runs] : by_env) {
    stats::ScoresByTask scores{{}};
    for (const RunScore& run : runs) scores[0].push_back(run.score);
    const stats::Interval iqm = stats::iqm_interval(scores, options);
    const stats::Interval mean = stats::mean_interval(scores, options);
    const stats::Interval median = stats::median_interval(scores, options);
    out << YAML::Key << env_id << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "runs" << YAML::Value << YAML::BeginSeq;
    for (const RunScore& run : runs) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "run" << YAML::Value << run.run_dir << YAML::Key << "seed"
          << YAML::Value << run.seed << YAML::Key << "score" << YAML::Value << run.score << YAML::EndMap;
    }
    out << YAML::EndSeq;
    emit_interval(out, "iqm", iqm);
    emit_interval(out, "mean", mean);
    emit_interval(out, "median", median);
    out << YAML::EndMap;
    std::cout << std::setw(28) << env_id << std::setw(6) << runs.size() << std::setw(30) << format_interval(iqm)
              << std::setw(30) << format_interval(mean) << format_interval(median) << "\n";
    if (runs.size() < 5) {
      std::cout << "  note: " << runs.size() << " runs of " << env_id
                << "; intervals from fewer than 5 runs are wide and their coverage is poor\n";
    }
  }
  out << YAML::EndMap << YAML::EndMap;
  if (!args.out.empty()) {
    write_file_atomically(args.out, std::string(out.c_str()) + "\n");
    std::cout << "report: " << args.out << "\n";
  }
  return 0;
}

}  // namespace

void add_report_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report", "IQM, mean and median of runs' final evaluation returns, each with a stratified bootstrap confidence interval");
  cmd->add_option("runs", args->paths, "Run directories, or folders holding runs (one level down)")->required();
  cmd->add_option("--out", args->out, "Also write the report as YAML to this file");
  cmd->add_option("--resamples", args->resamples, "Bootstrap resamples (at least 2000)")->capture_default_str();
  cmd->add_option("--confidence", args->confidence, "Two-sided confidence level")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the bootstrap's generator")->capture_default_str();
  cmd->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return report(*args); }); });
}

}  // namespace rlforge::cli
