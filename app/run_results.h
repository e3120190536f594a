#pragma once
// What finished runs report, read back from their run directories (config.yaml, summary.yaml,
// eval.csv): the inputs of `rlforge report` and of an experiment's progress.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rlforge::cli {

// A run directory holds config.yaml and summary.yaml (summary.yaml: the run finished).
bool is_finished_run(const std::filesystem::path& dir);

struct RunResult {
  std::string run_dir;
  std::string env_id;
  std::string algo;
  int64_t seed = 0;
  // The final model's mean return on the held-out test seeds (summary.yaml's test.final), and
  // best.pt's (test.best; NaN when the run has none). A supervised run on a table: best.pt's
  // test-split accuracy (classification) or R^2 (regression), both scores; env_id then names the
  // table and the task ("table:classification" for a generated one, "houses.csv:regression").
  double score = 0;
  double best_score = 0;
  std::string score_name = "held-out test return";
  // The in-training evaluations (eval.csv): env steps and mean return, the validation seeds'.
  std::vector<double> eval_steps, eval_returns;
};

// Throws one line naming the file and what it lacks (a run from before held-out testing, a run
// with trainer.test_episodes 0, an unreadable file).
RunResult read_run_result(const std::filesystem::path& dir);
// The held-out score of a finished run, or nothing when it has none.
std::optional<double> held_out_score(const std::filesystem::path& dir);

}  // namespace rlforge::cli
