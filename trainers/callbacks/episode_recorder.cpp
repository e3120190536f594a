#include <filesystem>

#include "rlforge/trainers/callbacks.h"

namespace fs = std::filesystem;

namespace rlforge {

void EpisodeRecorder::on_start(TrainingRun& run) {
  const TrainerSection& t = run.config().trainer;
  recording_ = t.record_every > 0 && run.lead() && run.learner().can_record();
  next_record_ = t.record_every > 0 ? t.record_every : t.total_steps + 1;
  if (run.resumed()) next_record_ = run.resumed_state()["next_record"].as<int64_t>();
}

void EpisodeRecorder::on_iteration(TrainingRun& run, const MetricsRow& row) {
  if (row.steps < next_record_ || row.steps >= run.total_steps()) return;
  if (recording_) record(run, "step_" + std::to_string(row.steps));
  while (next_record_ <= row.steps) next_record_ += run.config().trainer.record_every;
}

void EpisodeRecorder::on_checkpoint(TrainingRun& /*run*/, YAML::Node& state) { state["next_record"] = next_record_; }

void EpisodeRecorder::on_train_end(TrainingRun& run) {
  if (recording_ && !run.result.stopped) record(run, "final");
}

void EpisodeRecorder::record(TrainingRun& run, const std::string& name) {
  const fs::path videos = fs::path(run.run_dir()) / "videos";
  fs::create_directories(videos);
  run.message(run.learner().record((videos / (name + ".gif")).string()));
}

}  // namespace rlforge
