// The Trainer's callbacks: when they are called, what they can add and how they stop a run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>

#include "../test_files.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

const char* kConfig =
    "run: {seed: 3}\n"
    "env: {id: CartPole-v1, num_envs: 4, threads: 1}\n"
    "agent: {n_steps: 32, batch_size: 64, n_epochs: 2}\n"
    "trainer: {total_steps: 2048, eval_every: 512, eval_episodes: 2, log_every: 1024, checkpoint_every: 1024}\n";

// Writes down every call, and adds a column counting the iterations it has seen.
class Journal : public Callback {
 public:
  std::vector<std::string> calls;
  int64_t iterations = 0;
  int64_t resumed_iterations = -1;
  std::optional<StopKind> stop_at_evaluation;
  int64_t stop_after = 0;

  std::vector<Learner::Column> metric_columns(const TrainingRun&) const override {
    return {{"journal_iterations", "journal/iterations"}};
  }
  void add_metric_values(TrainingRun&, std::vector<double>& values) override {
    values.push_back(static_cast<double>(iterations + 1));
  }
  void on_start(TrainingRun& run) override {
    calls.push_back("start");
    if (run.resumed()) {
      resumed_iterations = run.resumed_state()["journal"].as<int64_t>();
      iterations = resumed_iterations;
    }
  }
  void on_iteration(TrainingRun& run, const MetricsRow& row) override {
    ++iterations;
    calls.push_back("iteration " + std::to_string(row.steps));
    CHECK(row.columns.back().name == "journal_iterations");
    CHECK(row.values.back() == static_cast<double>(iterations));
    if (stop_after > 0 && row.steps >= stop_after) run.request_stop(StopKind::interrupt, "journal");
  }
  void on_evaluation(TrainingRun& run, const EvaluationRecord& record) override {
    calls.push_back(std::string(record.final ? "final " : "") + "evaluation " + std::to_string(record.steps));
    CHECK(record.score_name == "mean_return");
    CHECK(record.evaluation.episodes.has_value());
    if (stop_at_evaluation) run.request_stop(*stop_at_evaluation, "journal stops at " + std::to_string(record.steps));
  }
  void on_checkpoint(TrainingRun&, YAML::Node& state) override {
    calls.push_back("checkpoint");
    state["journal"] = iterations;
  }
  void on_train_end(TrainingRun&) override { calls.push_back("end"); }
  void on_summary(TrainingRun&, YAML::Node& summary) override {
    calls.push_back("summary");
    summary["journal"] = iterations;
  }
};

TrainResult train(const fs::path& dir, const std::shared_ptr<Journal>& journal, RunControl control = {}) {
  std::ostringstream progress;
  control.callbacks.push_back(journal);
  Trainer trainer(parse_config(kConfig, "callbacks_test.yaml"), dir.string(), progress);
  return trainer.run(control);
}

std::size_t count(const std::vector<std::string>& calls, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& c : calls) n += c.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_CASE("callbacks are called at the loop's fixed points, in order", "[trainer][callbacks]") {
  const fs::path dir = testing::fresh_dir("callbacks-order");
  auto journal = std::make_shared<Journal>();
  const TrainResult result = train(dir, journal);
  REQUIRE_FALSE(result.stopped);
  const auto& calls = journal->calls;
  // 2048 steps of 128 per update: 16 iterations; evaluations at 512, 1024, 1536 and the final one.
  CHECK(calls.front() == "start");
  CHECK(count(calls, "iteration ") == 16);
  CHECK(count(calls, "evaluation ") == 3);
  CHECK(count(calls, "final evaluation 2048") == 1);
  CHECK(count(calls, "checkpoint") == 2);  // at 1024 and at the end
  // The built-in evaluation callback runs before a caller's: it publishes the final evaluation
  // from its on_train_end, and the evaluation at a step from its on_iteration for that step. The
  // last checkpoint comes after the final evaluation, so that it holds it.
  CHECK(calls[calls.size() - 4] == "final evaluation 2048");
  CHECK(calls[calls.size() - 3] == "end");
  CHECK(calls[calls.size() - 2] == "checkpoint");
  CHECK(calls.back() == "summary");
  const auto at = [&](const std::string& call) { return std::find(calls.begin(), calls.end(), call) - calls.begin(); };
  CHECK(at("iteration 384") < at("evaluation 512"));
  CHECK(at("evaluation 512") < at("iteration 512"));

  // The column it added is in metrics.csv, and its summary key in summary.yaml.
  const std::string metrics = testing::read_text(dir / "metrics.csv");
  CHECK(metrics.substr(0, metrics.find('\n')).size() > 0);
  CHECK(metrics.substr(0, metrics.find('\n')).rfind(",journal_iterations") != std::string::npos);
  CHECK(metrics.find(",16\n") != std::string::npos);
  CHECK(YAML::LoadFile((dir / "summary.yaml").string())["journal"].as<int64_t>() == 16);
  fs::remove_all(dir);
}

TEST_CASE("a callback that asks to finish ends the run with a final evaluation and summary", "[trainer][callbacks]") {
  const fs::path dir = testing::fresh_dir("callbacks-finish");
  auto journal = std::make_shared<Journal>();
  journal->stop_at_evaluation = StopKind::finish;
  const TrainResult result = train(dir, journal);
  CHECK(result.early_stopped);
  CHECK_FALSE(result.stopped);
  CHECK(result.env_steps == 512);
  CHECK(fs::exists(dir / "summary.yaml"));
  CHECK(fs::exists(dir / "checkpoints" / "last.pt"));
  // The evaluation that asked to stop is the final one: no second evaluation at the same step.
  CHECK(count(journal->calls, "evaluation 512") == 1);
  CHECK(count(journal->calls, "final evaluation") == 0);
  fs::remove_all(dir);
}

TEST_CASE("a callback that interrupts leaves a resumable run; its state comes back", "[trainer][callbacks]") {
  const fs::path dir = testing::fresh_dir("callbacks-interrupt");
  auto first = std::make_shared<Journal>();
  first->stop_after = 700;
  const TrainResult stopped = train(dir, first);
  CHECK(stopped.stopped);
  CHECK(stopped.env_steps == 768);
  CHECK_FALSE(fs::exists(dir / "summary.yaml"));
  CHECK(first->calls.back() == "end");

  auto second = std::make_shared<Journal>();
  RunControl resume;
  resume.resume = true;
  const TrainResult rest = train(dir, second, resume);
  CHECK_FALSE(rest.stopped);
  CHECK(rest.env_steps == 2048);
  CHECK(second->resumed_iterations == 6);
  CHECK(second->iterations == 16);
  fs::remove_all(dir);
}
