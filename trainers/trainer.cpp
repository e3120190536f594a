#include "rlforge/trainers/trainer.h"

#include "rlforge/evaluation/model_card.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/callbacks.h"

namespace fs = std::filesystem;

namespace rlforge {

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw ConfigError("run.device: '" + name + "' asked for, but CUDA is not available here (no GPU, or "
                        "LibTorch built without CUDA); use cpu or auto");
    }
    try {
      return torch::Device(name);
    } catch (const c10::Error&) {
      throw ConfigError("run.device: '" + name + "' is not a device; expected cpu, cuda, cuda:N or auto");
    }
  }
  throw ConfigError("run.device: '" + name + "' is not a device; expected cpu, cuda, cuda:N or auto");
}

std::string make_run_dir(const std::string& out_dir, const std::string& name) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream stamp;
  stamp << std::put_time(&tm, "%Y%m%d-%H%M%S");
  fs::path dir = fs::path(out_dir) / (name + "-" + stamp.str());
  for (int k = 2; fs::exists(dir); ++k) dir = fs::path(out_dir) / (name + "-" + stamp.str() + "-" + std::to_string(k));
  std::error_code ec;
  fs::create_directories(dir / "checkpoints", ec);
  if (ec) throw std::runtime_error("cannot create the run directory " + dir.string() + ": " + ec.message());
  return dir.string();
}

Trainer::Trainer(ExperimentConfig config, std::string run_dir, std::ostream& progress)
    : config_(std::move(config)), run_dir_(std::move(run_dir)), progress_(progress) {}

TrainResult Trainer::run(const RunControl& control) {
  TrainingRun run(config_, run_dir_, progress_, control);
  std::vector<std::shared_ptr<Callback>> callbacks = standard_callbacks();
  callbacks.insert(callbacks.end(), control.callbacks.begin(), control.callbacks.end());
  if (run.distributed() != nullptr) callbacks.push_back(std::make_shared<DistributedStop>());
  run.attach(callbacks);
  for (const auto& callback : callbacks) callback->on_start(run);
  last_checkpoint_steps_ = run.steps();

  std::vector<double> values;
  while (run.steps() < run.total_steps()) {
    try {
      run.learner().iterate();
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("at " + run.unit() + " " + std::to_string(run.steps()) + ": " + e.what() +
                               "; the last good checkpoint is " + run.last_checkpoint());
    }
    values = run.learner().metric_values();
    for (const auto& callback : callbacks) callback->add_metric_values(run, values);
    const MetricsRow row{run.steps(), run.metric_columns(), values,
                         static_cast<double>(run.steps() - run.first_steps()) / std::max(1e-9, run.session_seconds())};
    for (const auto& callback : callbacks) callback->on_iteration(run, row);

    if (const std::string why = run.learner().converged(); !why.empty() && run.steps() < run.total_steps() &&
                                                           !run.stop_requested(StopKind::finish)) {
      run.request_stop(StopKind::finish, why);
    }
    const bool interrupt = run.stop_requested(StopKind::interrupt) && run.steps() < run.total_steps();
    const bool finish = run.stop_requested(StopKind::finish);
    // The checkpoint comes after the callbacks: everything logged so far belongs to it. The last
    // one waits for the end of the run (below).
    const bool last = finish || run.steps() >= run.total_steps();
    if (interrupt || (!last && checkpoint_due(run))) write_last_checkpoint(run);
    if (interrupt) {
      const std::string& reason = run.stop_reason(StopKind::interrupt);
      run.message((reason.empty() ? "" : reason + "; ") + "stopped at " + std::to_string(run.steps()) + " " +
                  run.unit() + "; continue with --resume " + run_dir_);
      run.result.stopped = true;
      break;
    }
    if (finish) {
      run.message(run.stop_reason(StopKind::finish));
      run.result.early_stopped = true;
      break;
    }
  }
  run.result.run_dir = run_dir_;
  run.result.env_steps = run.steps();
  for (const auto& callback : callbacks) callback->on_train_end(run);
  // The final last.pt comes after the final evaluation and holds it: a run killed before its
  // summary resumes at the last step without evaluating (and logging) it twice.
  if (!run.result.stopped) write_last_checkpoint(run);
  run.result.wall_seconds = run.elapsed_seconds();
  if (!run.result.stopped) run.learner().before_summary(run.checkpoint_path("best.pt"));
  if (run.lead() && !run.result.stopped) write_summary(run);
  return run.result;
}

bool Trainer::checkpoint_due(const TrainingRun& run) const {
  const int64_t every = config_.trainer.checkpoint_every;
  return run.steps() >= run.total_steps() || run.steps() / every != last_checkpoint_steps_ / every;
}

// last.pt: the agent, the learner's state (envs, generators, replay) and the callbacks' state.
void Trainer::write_last_checkpoint(TrainingRun& run) {
  const auto start = std::chrono::steady_clock::now();
  Checkpoint info{run.steps(), run.resolved_config(), {}};
  run.learner().save_state(info.extras, (fs::path(run_dir_) / "checkpoints").string());
  YAML::Node state(YAML::NodeType::Map);
  if (run.world_size() > 1) state["world_size"] = run.world_size();
  state["elapsed_seconds"] = run.elapsed_seconds();
  for (const auto& callback : run.callbacks_) callback->on_checkpoint(run, state);
  info.extras["loop"] = yaml_tensor(state);
  save_checkpoint(run.last_checkpoint(), run.learner().agent(), info);
  last_checkpoint_steps_ = run.steps();
  checkpoint_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Trainer::write_summary(TrainingRun& run) {
  YAML::Node summary;
  summary[run.unit()] = run.result.env_steps;
  if (run.result.early_stopped) summary["early_stopped"] = true;
  // Held-out evaluations: the test split of a supervised run, the test seeds of an RL run.
  run.learner().finish(summary, run.checkpoint_path("best.pt"), run.log());
  summary["wall_seconds"] = run.result.wall_seconds;
  summary["steps_per_second"] = static_cast<double>(run.result.env_steps) / run.result.wall_seconds;
  for (const auto& callback : run.callbacks_) callback->on_summary(run, summary);
  // Where this session's time went (a resumed run counts from its resume).
  for (const auto& [part, seconds] : run.learner().time_seconds()) summary["time_seconds"][part] = seconds;
  summary["time_seconds"]["checkpoints"] = checkpoint_seconds_;
  YAML::Emitter out;
  out << summary;
  write_file_atomically((fs::path(run_dir_) / "summary.yaml").string(), std::string(out.c_str()) + "\n");
  // The run itself is done and saved: a card that cannot be written is a warning, not a failure.
  try {
    write_model_card(run_dir_);
  } catch (const std::exception& e) {
    run.log() << "warning: MODEL_CARD.md not written: " << e.what() << " (`rlforge card " << run_dir_
              << "` tries again)" << std::endl;
  }
}

}  // namespace rlforge
