#include "run_results.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

YAML::Node load_yaml(const fs::path& path) {
  try {
    return YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path.string() + ": not readable YAML: " + e.what());
  }
}

// yaml-cpp throws when indexing below a missing key, hence one step at a time.
YAML::Node child(const YAML::Node& node, const char* key) { return node && node.IsMap() ? node[key] : YAML::Node(); }
bool scalar(const YAML::Node& node) { return node && node.IsScalar(); }

// eval.csv's env_steps and mean_return columns.
void read_evaluations(const fs::path& path, RunResult& run) {
  std::ifstream in(path);
  if (!in) return;  // a run without in-training evaluations has no curve
  std::string line;
  if (!std::getline(in, line)) return;
  std::vector<std::string> names;
  std::stringstream header(line);
  for (std::string name; std::getline(header, name, ',');) names.push_back(name);
  std::size_t steps_col = names.size(), return_col = names.size();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "env_steps") steps_col = i;
    if (names[i] == "mean_return") return_col = i;
  }
  if (steps_col == names.size() || return_col == names.size()) {
    throw std::runtime_error(path.string() + ": expected env_steps and mean_return columns");
  }
  for (int row = 2; std::getline(in, line); ++row) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
    try {
      run.eval_steps.push_back(std::stod(cells.at(steps_col)));
      run.eval_returns.push_back(std::stod(cells.at(return_col)));
    } catch (const std::exception&) {
      throw std::runtime_error(path.string() + ": line " + std::to_string(row) + ": expected numbers in the " +
                               "env_steps and mean_return columns");
    }
  }
}

}  // namespace

bool is_finished_run(const fs::path& dir) { return fs::exists(dir / "summary.yaml") && fs::exists(dir / "config.yaml"); }

RunResult read_run_result(const fs::path& dir) {
  const YAML::Node config = load_yaml(dir / "config.yaml");
  const YAML::Node summary = load_yaml(dir / "summary.yaml");
  const YAML::Node env_id = child(child(config, "env"), "id");
  const YAML::Node seed = child(child(config, "run"), "seed");
  const YAML::Node algo = child(child(config, "agent"), "algo");
  const YAML::Node score = child(child(child(summary, "test"), "final"), "mean_return");
  const YAML::Node best = child(child(child(summary, "test"), "best"), "mean_return");
  if (!scalar(env_id) || !scalar(seed) || !scalar(algo)) {
    throw std::runtime_error((dir / "config.yaml").string() + ": expected agent.algo, env.id and run.seed");
  }
  if (!scalar(score)) {
    throw std::runtime_error((dir / "summary.yaml").string() +
                             ": no test.final.mean_return, the held-out test score (a run with trainer.test_episodes "
                             "0, or from before held-out testing: rlforge eval RUN gives its held-out score)");
  }
  RunResult run;
  run.run_dir = dir.string();
  try {
    run.env_id = env_id.as<std::string>();
    run.algo = algo.as<std::string>();
    run.seed = seed.as<int64_t>();
    run.score = score.as<double>();
    run.best_score = scalar(best) ? best.as<double>() : NAN;
  } catch (const YAML::Exception&) {
    throw std::runtime_error(dir.string() + ": run.seed '" + seed.Scalar() + "' or test.final.mean_return '" +
                             score.Scalar() + "' is not a number");
  }
  read_evaluations(dir / "eval.csv", run);
  return run;
}

std::optional<double> held_out_score(const fs::path& dir) {
  try {
    if (!is_finished_run(dir)) return std::nullopt;
    return read_run_result(dir).score;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace rlforge::cli
