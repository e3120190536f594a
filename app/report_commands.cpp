#include "report_commands.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_errors.h"
#include "reference_scores.h"
#include "run_results.h"
#include "rlforge/render/plot.h"
#include "rlforge/stats/bootstrap.h"
#include "rlforge/trainers/trainer.h"

namespace rlforge::cli {

namespace {

namespace fs = std::filesystem;

struct ReportArgs {
  std::vector<std::string> groups;
  std::string out;
  int resamples = 2000;
  double confidence = 0.95;
  std::uint64_t seed = 0;
  std::string score = "final";  // or "best": best.pt's held-out score
};

// The runs of one argument: "[LABEL=]PATH[,PATH...]", each PATH a run or a folder of runs.
struct Group {
  std::string label;
  std::vector<std::string> paths;
  std::map<std::string, std::vector<RunResult>> by_env;
};

std::string label_of(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

Group read_group(const std::string& arg, bool best) {
  Group g;
  std::string list = arg;
  const std::size_t eq = arg.find('=');
  if (eq != std::string::npos) {
    g.label = arg.substr(0, eq);
    list = arg.substr(eq + 1);
    if (g.label.empty()) throw std::runtime_error(arg + ": an empty label before '='");
  }
  std::stringstream items(list);
  for (std::string path; std::getline(items, path, ',');) {
    if (!path.empty()) g.paths.push_back(path);
  }
  if (g.paths.empty()) throw std::runtime_error(arg + ": no path");
  if (g.label.empty()) g.label = label_of(g.paths.front());

  std::vector<fs::path> run_dirs;
  for (const std::string& path : g.paths) {
    if (!fs::is_directory(path)) throw std::runtime_error(path + ": not a directory");
    if (is_finished_run(path)) {
      run_dirs.emplace_back(path);
      continue;
    }
    std::vector<fs::path> inside;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_directory() && is_finished_run(entry.path())) inside.push_back(entry.path());
    }
    if (inside.empty()) {
      throw std::runtime_error(path + ": neither a finished run (config.yaml and summary.yaml) nor a folder of them");
    }
    std::sort(inside.begin(), inside.end());
    run_dirs.insert(run_dirs.end(), inside.begin(), inside.end());
  }
  for (const fs::path& dir : run_dirs) {
    RunResult run = read_run_result(dir);
    if (best) {
      if (std::isnan(run.best_score)) {
        throw std::runtime_error((dir / "summary.yaml").string() + ": no test.best.mean_return (best.pt's held-out score)");
      }
      run.score = run.best_score;
    }
    for (const RunResult& other : g.by_env[run.env_id]) {
      // Two runs of one seed are one sample counted twice: the interval would be too narrow.
      if (other.seed == run.seed) {
        throw std::runtime_error(run.run_dir + ": seed " + std::to_string(run.seed) + " of " + run.env_id +
                                 " is also the seed of " + other.run_dir);
      }
    }
    g.by_env[run.env_id].push_back(std::move(run));
  }
  return g;
}

std::vector<double> scores_of(const std::vector<RunResult>& runs) {
  std::vector<double> v;
  for (const RunResult& r : runs) v.push_back(r.score);
  return v;
}

void emit_interval(YAML::Emitter& out, const std::string& name, const stats::Interval& ci) {
  out << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "point" << YAML::Value
      << ci.point << YAML::Key << "lower" << YAML::Value << ci.lower << YAML::Key << "upper" << YAML::Value << ci.upper
      << YAML::EndMap;
}

std::string format_interval(const stats::Interval& ci) {
  std::ostringstream s;
  s << std::setprecision(4) << ci.point << " [" << ci.lower << ", " << ci.upper << "]";
  return s.str();
}

// A file name from an env id: CartPole-v1 -> CartPole-v1, anything odd -> '_'.
std::string file_part(const std::string& text) {
  std::string s = text;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return s;
}

const Color kGroupColors[] = {{31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {255, 127, 14}, {148, 103, 189}, {140, 86, 75}};
Color group_color(std::size_t i) { return kGroupColors[i % (sizeof kGroupColors / sizeof kGroupColors[0])]; }


// Env steps at which every run evaluated, and the IQM of their evaluation returns there.
struct Curve {
  std::vector<double> steps;
  std::vector<stats::Interval> iqm;
};

Curve sample_efficiency(const std::vector<RunResult>& runs, const stats::BootstrapOptions& options) {
  Curve c;
  if (runs.empty() || runs.front().eval_steps.empty()) return c;
  for (std::size_t i = 0; i < runs.front().eval_steps.size(); ++i) {
    const double step = runs.front().eval_steps[i];
    stats::ScoresByTask at{{}};
    for (const RunResult& r : runs) {
      const auto it = std::find(r.eval_steps.begin(), r.eval_steps.end(), step);
      if (it == r.eval_steps.end()) break;
      const double value = r.eval_returns[static_cast<std::size_t>(it - r.eval_steps.begin())];
      if (!std::isfinite(value)) break;  // an unreadable cell: this step is left out
      at[0].push_back(value);
    }
    if (at[0].size() != runs.size()) continue;
    c.steps.push_back(step);
    c.iqm.push_back(stats::iqm_interval(at, options));
  }
  return c;
}

class Report {
 public:
  Report(std::vector<Group> groups, const stats::BootstrapOptions& options, std::string score)
      : groups_(std::move(groups)), options_(options), score_(std::move(score)) {}

  // Prints the tables; with `out_dir`, writes report.yaml and the figures there.
  void write(const std::string& out_dir) {
    YAML::Emitter out;
    out.SetDoublePrecision(10);  // 0.95, not 0.94999999999999996
    out << YAML::BeginMap;
    out << YAML::Key << "score" << YAML::Value << score_description();
    out << YAML::Key << "bootstrap" << YAML::Value << YAML::BeginMap << YAML::Key << "method" << YAML::Value
        << "stratified percentile" << YAML::Key << "resamples" << YAML::Value << options_.resamples << YAML::Key
        << "confidence" << YAML::Value << options_.confidence << YAML::Key << "seed" << YAML::Value << options_.seed
        << YAML::EndMap;
    out << YAML::Key << "groups" << YAML::Value << YAML::BeginMap;
    for (std::size_t g = 0; g < groups_.size(); ++g) write_group(out, g);
    out << YAML::EndMap;
    write_comparisons(out);
    std::vector<std::string> figures;
    if (!out_dir.empty()) {
      fs::create_directories(out_dir);
      figures = draw_figures(out_dir);
    }
    out << YAML::Key << "figures" << YAML::Value << YAML::Flow << figures << YAML::EndMap;
    if (!out_dir.empty()) {
      const fs::path path = fs::path(out_dir) / "report.yaml";
      write_file_atomically(path.string(), std::string(out.c_str()) + "\n");
      std::cout << "report: " << path.string();
      for (const std::string& f : figures) std::cout << ", " << f;
      std::cout << std::endl;
    }
  }

 private:
  // Every env of the group has reference scores: its runs' normalised scores, one task per env.
  std::optional<stats::ScoresByTask> normalised(const Group& g) const {
    stats::ScoresByTask tasks;
    for (const auto& [env_id, runs] : g.by_env) {
      const auto ref = reference_scores_of(env_id);
      if (!ref) return std::nullopt;
      std::vector<double> v;
      for (const RunResult& r : runs) v.push_back(stats::normalise(r.score, ref->random, ref->reference));
      tasks.push_back(v);
    }
    return tasks;
  }

  void write_group(YAML::Emitter& out, std::size_t index) {
    const Group& g = groups_[index];
    std::cout << g.label << ":\n"
              << "  " << std::left << std::setw(26) << "env" << std::setw(6) << "runs" << std::setw(28)
              << "IQM [95% CI]" << std::setw(28) << "mean [CI]" << "median [CI]\n";
    out << YAML::Key << g.label << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "paths" << YAML::Value << YAML::Flow << g.paths;
    out << YAML::Key << "envs" << YAML::Value << YAML::BeginMap;
    for (const auto& [env_id, runs] : g.by_env) {
      const stats::ScoresByTask scores{scores_of(runs)};
      const stats::Interval iqm = stats::iqm_interval(scores, options_);
      const stats::Interval mean = stats::mean_interval(scores, options_);
      const stats::Interval median = stats::median_interval(scores, options_);
      out << YAML::Key << env_id << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "runs" << YAML::Value << YAML::BeginSeq;
      for (const RunResult& run : runs) {
        out << YAML::Flow << YAML::BeginMap << YAML::Key << "run" << YAML::Value << label_of(run.run_dir) << YAML::Key
            << "seed" << YAML::Value << run.seed << YAML::Key << "score" << YAML::Value << run.score << YAML::EndMap;
      }
      out << YAML::EndSeq;
      emit_interval(out, "iqm", iqm);
      emit_interval(out, "mean", mean);
      emit_interval(out, "median", median);
      if (const auto ref = reference_scores_of(env_id)) {
        stats::ScoresByTask norm{{}};
        for (const RunResult& r : runs) norm[0].push_back(stats::normalise(r.score, ref->random, ref->reference));
        out << YAML::Key << "normalised" << YAML::Value << YAML::BeginMap << YAML::Key << "random" << YAML::Value
            << ref->random << YAML::Key << "reference" << YAML::Value << ref->reference;
        emit_interval(out, "iqm", stats::iqm_interval(norm, options_));
        emit_interval(out, "optimality_gap", stats::optimality_gap_interval(norm, 1.0, options_));
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
      std::cout << "  " << std::setw(26) << env_id << std::setw(6) << runs.size() << std::setw(28)
                << format_interval(iqm) << std::setw(28) << format_interval(mean) << format_interval(median) << "\n";
      if (runs.size() < 5) {
        std::cout << "    note: " << runs.size() << " runs of " << env_id
                  << "; intervals from fewer than 5 runs are wide and their coverage is poor\n";
      }
    }
    out << YAML::EndMap;
    if (g.by_env.size() > 1) {
      if (const auto norm = normalised(g)) {
        const stats::Interval iqm = stats::iqm_interval(*norm, options_);
        const stats::Interval mean = stats::mean_interval(*norm, options_);
        const stats::Interval median = stats::median_interval(*norm, options_);
        const stats::Interval gap = stats::optimality_gap_interval(*norm, 1.0, options_);
        out << YAML::Key << "across_envs" << YAML::Value << YAML::BeginMap << YAML::Key << "scores" << YAML::Value
            << "normalised: random policy 0, reference score 1";
        emit_interval(out, "iqm", iqm);
        emit_interval(out, "mean", mean);
        emit_interval(out, "median", median);
        emit_interval(out, "optimality_gap", gap);
        out << YAML::EndMap;
        std::cout << "  across " << g.by_env.size() << " envs, normalised: IQM " << format_interval(iqm) << ", mean "
                  << format_interval(mean) << ", median " << format_interval(median) << ", optimality gap "
                  << format_interval(gap) << "\n";
      } else {
        std::cout << "  across envs: not aggregated (an env without reference scores; see docs/results/README.md)\n";
      }
    }
    out << YAML::EndMap;
  }

  // P(A > B) for every pair of groups on the envs both ran.
  void write_comparisons(YAML::Emitter& out) {
    out << YAML::Key << "comparisons" << YAML::Value << YAML::BeginSeq;
    for (std::size_t a = 0; a < groups_.size(); ++a) {
      for (std::size_t b = a + 1; b < groups_.size(); ++b) {
        stats::ScoresByTask x, y;
        std::vector<std::string> envs;
        for (const auto& [env_id, runs] : groups_[a].by_env) {
          const auto other = groups_[b].by_env.find(env_id);
          if (other == groups_[b].by_env.end()) continue;
          envs.push_back(env_id);
          x.push_back(scores_of(runs));
          y.push_back(scores_of(other->second));
        }
        if (envs.empty()) continue;
        const stats::Interval p = stats::probability_of_improvement_interval(x, y, options_);
        out << YAML::BeginMap << YAML::Key << "a" << YAML::Value << groups_[a].label << YAML::Key << "b" << YAML::Value
            << groups_[b].label << YAML::Key << "envs" << YAML::Value << YAML::Flow << envs;
        emit_interval(out, "probability_of_improvement", p);
        out << YAML::EndMap;
        std::cout << "P(" << groups_[a].label << " > " << groups_[b].label << ") on " << envs.size()
                  << (envs.size() == 1 ? " env: " : " envs: ") << format_interval(p) << "\n";
      }
    }
    out << YAML::EndSeq;
  }

  std::vector<std::string> draw_figures(const std::string& out_dir) {
    std::vector<std::string> files;
    // Performance profiles of the groups whose envs all have reference scores.
    PlotSpec profile{"Performance profile (normalised held-out scores, 95% CI)", "normalised score tau",
                     "fraction of runs with score > tau", {}};
    std::vector<std::pair<std::size_t, stats::ScoresByTask>> normed;
    double hi = 1.25, lo = 0;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      if (auto norm = normalised(groups_[g])) {
        for (const double v : stats::flatten(*norm)) hi = std::max(hi, v), lo = std::min(lo, v);
        normed.emplace_back(g, std::move(*norm));
      }
    }
    if (!normed.empty()) {
      std::vector<double> taus;
      for (int i = 0; i <= 100; ++i) taus.push_back(lo + (hi - lo) * i / 100.0);
      for (const auto& [g, scores] : normed) {
        PlotSeries s = series(g, false);
        s.x = taus;
        for (const stats::Interval& ci : stats::performance_profile(scores, taus, options_)) {
          s.y.push_back(ci.point);
          s.lower.push_back(ci.lower);
          s.upper.push_back(ci.upper);
        }
        profile.series.push_back(std::move(s));
      }
      write_plot_png(profile, (fs::path(out_dir) / "performance_profile.png").string());
      files.push_back("performance_profile.png");
    }
    // Sample efficiency per env: each group's IQM of evaluation returns against env steps.
    std::set<std::string> envs;
    for (const Group& g : groups_) {
      for (const auto& [env_id, runs] : g.by_env) envs.insert(env_id);
    }
    for (const std::string& env_id : envs) {
      const bool tables = table_task(env_id);
      PlotSpec curve{(tables ? "Learning curve on " : "Sample efficiency on ") + env_id + " (IQM over runs, 95% CI)",
                     tables ? "epoch" : "env steps",
                     !tables ? "evaluation return (validation seeds)"
                     : curve_label(env_id.substr(env_id.rfind(':') + 1)),
                     {}};
      for (std::size_t g = 0; g < groups_.size(); ++g) {
        const auto it = groups_[g].by_env.find(env_id);
        if (it == groups_[g].by_env.end()) continue;
        const Curve c = sample_efficiency(it->second, options_);
        if (c.steps.empty()) continue;
        PlotSeries s = series(g, true);
        s.x = c.steps;
        for (const stats::Interval& ci : c.iqm) {
          s.y.push_back(ci.point);
          s.lower.push_back(ci.lower);
          s.upper.push_back(ci.upper);
        }
        curve.series.push_back(std::move(s));
      }
      if (curve.series.empty()) continue;
      const std::string name = "sample_efficiency_" + file_part(env_id) + ".png";
      write_plot_png(curve, (fs::path(out_dir) / name).string());
      files.push_back(name);
    }
    return files;
  }

  // The validation figure a table run's curve shows, by its task (run_results.cpp).
  static std::string curve_label(const std::string& task) {
    if (task == "classification") return "validation accuracy";
    if (task == "kmeans") return "validation silhouette";
    if (task == "gaussian_mixture") return "validation negative log-likelihood per row";
    return "validation R^2";
  }

  // Supervised runs on tables (run_results.cpp names them "TABLE:TASK").
  bool table_task(const std::string& env_id) const {
    for (const Group& g : groups_) {
      const auto it = g.by_env.find(env_id);
      if (it != g.by_env.end() && !it->second.empty()) return it->second.front().score_name != RunResult().score_name;
    }
    return false;
  }

  // What the scores are: held-out test returns for RL runs, test-split metrics for tables.
  std::string score_description() const {
    std::set<std::string> names;
    for (const Group& g : groups_) {
      for (const auto& [env_id, runs] : g.by_env) {
        for (const RunResult& r : runs) names.insert(r.score_name);
      }
    }
    std::string text;
    for (const std::string& name : names) {
      if (!text.empty()) text += "; ";
      if (name == RunResult().score_name) {
        text += score_ == "best" ? "held-out test return of each run's best.pt (summary.yaml: test.best.mean_return)"
                                 : "held-out test return of each run's final model (summary.yaml: test.final.mean_return)";
      } else {
        text += name + " of each run's best checkpoint (summary.yaml: test.accuracy, test.r2 or test.adjusted_rand_index)";
      }
    }
    return text;
  }

  PlotSeries series(std::size_t group, bool markers) const {
    PlotSeries s;
    s.name = groups_[group].label;
    s.color = group_color(group);
    s.markers = markers;
    return s;
  }

  std::vector<Group> groups_;
  stats::BootstrapOptions options_;
  std::string score_;
};

int report(const ReportArgs& args) {
  if (args.resamples < 2000) {
    throw std::invalid_argument("--resamples " + std::to_string(args.resamples) + ": expected at least 2000");
  }
  if (!(args.confidence > 0 && args.confidence < 1)) {
    throw std::invalid_argument("--confidence " + std::to_string(args.confidence) + ": expected a value in (0, 1)");
  }
  std::vector<Group> groups;
  std::set<std::string> labels;
  for (const std::string& arg : args.groups) {
    groups.push_back(read_group(arg, args.score == "best"));
    if (!labels.insert(groups.back().label).second) {
      throw std::invalid_argument(arg + ": the label '" + groups.back().label +
                                  "' names another group too; give one with LABEL=PATH");
    }
  }
  Report(std::move(groups), {args.resamples, args.confidence, args.seed}, args.score).write(args.out);
  return 0;
}

}  // namespace

int report_experiment(const std::string& dir) {
  ReportArgs args;
  args.groups = {dir};
  args.out = dir;
  return report(args);
}

void add_report_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report",
      "Interval estimates over runs' held-out scores: IQM, mean, median and optimality gap with stratified "
      "bootstrap confidence intervals, per env and across envs; performance profiles, sample-efficiency curves, "
      "and P(A > B) between groups");
  cmd->add_option("groups", args->groups,
                  "[LABEL=]PATH[,PATH...]: one group of runs (an algorithm or config), each PATH a run directory or "
                  "a folder of runs (an experiment); two or more groups are compared")
      ->required();
  cmd->add_option("--out", args->out, "Write report.yaml and the PNG figures into this directory");
  cmd->add_option("--resamples", args->resamples, "Bootstrap resamples (at least 2000)")->capture_default_str();
  cmd->add_option("--confidence", args->confidence, "Two-sided confidence level")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the bootstrap's generator")->capture_default_str();
  cmd->add_option("--score", args->score,
                  "Whose held-out score: the final model's, or best.pt's (chosen on the validation seeds)")
      ->capture_default_str()->check(CLI::IsMember({"final", "best"}));
  cmd->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return report(*args); }); });
}

}  // namespace rlforge::cli
