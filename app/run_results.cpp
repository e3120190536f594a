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

// A cloned policy: best.pt's mean return on the held-out test seeds, as an RL run's.
RunResult read_cloning_run_result(const fs::path& dir, const YAML::Node& config, const YAML::Node& summary) {
  const YAML::Node env_id = child(child(config, "env"), "id");
  const YAML::Node seed = child(child(config, "run"), "seed");
  const YAML::Node score = child(child(child(summary, "test"), "held_out"), "mean_return");
  if (!scalar(env_id) || !scalar(seed) || !scalar(score)) {
    throw std::runtime_error((dir / "summary.yaml").string() +
                             ": no test.held_out.mean_return (a behaviour cloning run without env.id or with "
                             "trainer.test_episodes 0) or no run.seed");
  }
  RunResult run;
  run.run_dir = dir.string();
  run.algo = child(child(config, "agent"), "algo").Scalar();
  run.env_id = env_id.Scalar();
  try {
    run.seed = seed.as<int64_t>();
    run.score = run.best_score = score.as<double>();
  } catch (const YAML::Exception&) {
    throw std::runtime_error(dir.string() + ": run.seed or test.held_out.mean_return is not a number");
  }
  return run;
}

// A supervised run on a table: best.pt's test-split accuracy or R^2.
RunResult read_table_run_result(const fs::path& dir, const YAML::Node& config, const YAML::Node& summary) {
  const YAML::Node data = child(config, "data");
  const YAML::Node task = child(child(config, "agent"), "task");
  const YAML::Node seed = child(child(config, "run"), "seed");
  if (scalar(task) && task.Scalar() == "behaviour_cloning") return read_cloning_run_result(dir, config, summary);
  const bool classification = scalar(task) && task.Scalar() == "classification";
  const bool regression = scalar(task) && task.Scalar() == "regression";
  if (!classification && !regression) {
    throw std::runtime_error((dir / "config.yaml").string() + ": a supervised run scores on its test split for tasks " +
                             "classification and regression, not '" + (scalar(task) ? task.Scalar() : "") + "'");
  }
  const char* metric = classification ? "accuracy" : "r2";
  const YAML::Node score = child(child(summary, "test"), metric);
  if (!scalar(score) || !scalar(seed)) {
    throw std::runtime_error((dir / "summary.yaml").string() + ": no test." + metric +
                             " (a run with data.test_fraction 0 has no test split) or no run.seed");
  }
  const YAML::Node csv = child(data, "csv");
  RunResult run;
  run.run_dir = dir.string();
  run.algo = child(child(config, "agent"), "algo").Scalar();
  run.env_id = (scalar(csv) && !csv.Scalar().empty() ? fs::path(csv.Scalar()).filename().string() : std::string("table")) +
               ":" + task.Scalar();
  run.score_name = classification ? "test-split accuracy" : "test-split R^2";
  try {
    run.seed = seed.as<int64_t>();
    run.score = run.best_score = score.as<double>();
  } catch (const YAML::Exception&) {
    throw std::runtime_error(dir.string() + ": run.seed or test." + metric + " is not a number");
  }
  // Its validation curve: the validation split's metric against epochs.
  read_csv_columns((dir / "eval.csv").string(), "epoch", metric, run.eval_steps, run.eval_returns);
  return run;
}

// An unsupervised run's clusters against the labels it never saw: the test split's adjusted Rand
// index, with the validation silhouette (k-means) or negative log-likelihood (mixture) as its curve.
RunResult read_cluster_run_result(const fs::path& dir, const YAML::Node& config, const YAML::Node& summary) {
  const YAML::Node task = child(child(config, "agent"), "task");
  const YAML::Node seed = child(child(config, "run"), "seed");
  const YAML::Node score = child(child(summary, "test"), "adjusted_rand_index");
  if (!scalar(score) || !scalar(seed) || !scalar(task)) {
    throw std::runtime_error((dir / "summary.yaml").string() +
                             ": no test.adjusted_rand_index (clusters are scored against a table's labels: "
                             "data.generate: classification or data.target, and a test split) or no run.seed");
  }
  const YAML::Node csv = child(child(config, "data"), "csv");
  RunResult run;
  run.run_dir = dir.string();
  run.algo = "unsupervised";
  run.env_id = (scalar(csv) && !csv.Scalar().empty() ? fs::path(csv.Scalar()).filename().string() : std::string("table")) +
               ":" + task.Scalar();
  run.score_name = "test-split adjusted Rand index";
  try {
    run.seed = seed.as<int64_t>();
    run.score = run.best_score = score.as<double>();
  } catch (const YAML::Exception&) {
    throw std::runtime_error(dir.string() + ": run.seed or test.adjusted_rand_index is not a number");
  }
  read_csv_columns((dir / "eval.csv").string(), "epoch", task.Scalar() == "kmeans" ? "silhouette" : "nll", run.eval_steps,
                   run.eval_returns);
  return run;
}

}  // namespace

bool is_finished_run(const fs::path& dir) { return fs::exists(dir / "summary.yaml") && fs::exists(dir / "config.yaml"); }

RunResult read_run_result(const fs::path& dir) {
  const YAML::Node config = load_yaml(dir / "config.yaml");
  const YAML::Node summary = load_yaml(dir / "summary.yaml");
  const YAML::Node env_id = child(child(config, "env"), "id");
  const YAML::Node seed = child(child(config, "run"), "seed");
  const YAML::Node algo = child(child(config, "agent"), "algo");
  if (scalar(algo) && (algo.Scalar() == "supervised" || algo.Scalar() == "semi_supervised")) {
    return read_table_run_result(dir, config, summary);
  }
  if (scalar(algo) && algo.Scalar() == "unsupervised") return read_cluster_run_result(dir, config, summary);
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
