// Trains a config with rlforge's Trainer plus a callback of this program's own: it stops the run
// once an evaluation's mean return reaches a threshold (as SB3's StopTrainingOnRewardThreshold),
// and logs the best evaluation return so far as a column of metrics.csv and a TensorBoard scalar.
//
//   train_with_callback CONFIG THRESHOLD [key=value ...]
#include <rlforge/trainers/trainer.h>

#include <cmath>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

namespace {

class StopAtReturn : public rlforge::Callback {
 public:
  explicit StopAtReturn(double threshold) : threshold_(threshold) {}

  // One column more in metrics.csv; its tag puts it in TensorBoard too.
  std::vector<rlforge::Learner::Column> metric_columns(const rlforge::TrainingRun&) const override {
    return {{"best_eval_return", "custom/best_eval_return"}};
  }
  void add_metric_values(rlforge::TrainingRun&, std::vector<double>& values) override { values.push_back(best_); }

  void on_evaluation(rlforge::TrainingRun& run, const rlforge::EvaluationRecord& record) override {
    if (!record.evaluation.episodes) return;  // an evaluation without episodes (learning from data)
    const double mean = record.evaluation.episodes->mean_return;
    if (!(mean <= best_)) best_ = mean;  // NaN before the first evaluation
    if (mean >= threshold_) {
      run.request_stop(rlforge::StopKind::finish, "mean return " + std::to_string(mean) + " reached " +
                                                      std::to_string(threshold_) + " at " +
                                                      std::to_string(record.steps) + " steps");
    }
  }

  // Kept in last.pt, so that a resumed run remembers its best.
  void on_checkpoint(rlforge::TrainingRun&, YAML::Node& state) override {
    if (std::isfinite(best_)) state["stop_at_return"]["best"] = best_;
  }
  void on_start(rlforge::TrainingRun& run) override {
    if (run.resumed() && run.resumed_state()["stop_at_return"]) {
      best_ = run.resumed_state()["stop_at_return"]["best"].as<double>();
    }
  }

 private:
  double threshold_;
  double best_ = NAN;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: train_with_callback CONFIG THRESHOLD [key=value ...]" << std::endl;
    return 2;
  }
  try {
    std::vector<std::string> overrides(argv + 3, argv + argc);
    rlforge::ExperimentConfig config = rlforge::load_config(argv[1], overrides);
    const std::string run_dir = rlforge::make_run_dir(config.run.out_dir, config.run.name);
    std::cout << "run directory: " << run_dir << std::endl;
    rlforge::RunControl control;
    control.callbacks.push_back(std::make_shared<StopAtReturn>(std::stod(argv[2])));
    rlforge::Trainer trainer(std::move(config), run_dir, std::cout);
    const rlforge::TrainResult result = trainer.run(control);
    std::cout << "env_steps: " << result.env_steps << "\n"
              << "stopped_by_callback: " << (result.early_stopped ? "true" : "false") << "\n"
              << "final_eval: mean_return " << result.final_eval.mean_return << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "train_with_callback: error: " << e.what() << std::endl;
    return 1;
  }
}
