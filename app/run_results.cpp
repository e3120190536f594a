#include "run_results.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <stdexcept>

#include "rlforge/trainers/learning_curve.h"

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
  // Its in-training evaluations; a run without them has no curve.
  read_csv_columns((dir / "eval.csv").string(), "env_steps", "mean_return", run.eval_steps, run.eval_returns);
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
