#include "replay_checkpoint.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace rlforge {

namespace {
// Buffers up to this size are saved with last.pt when save_replay_buffer is auto.
constexpr int64_t kAutoSaveBytes = int64_t{256} << 20;
}  // namespace

bool replay_saved_with_checkpoints(const std::string& mode, int64_t bytes) {
  return mode == "true" || (mode == "auto" && bytes <= kAutoSaveBytes);
}

void save_replay(const ReplayBuffer& buffer, bool save, const std::string& checkpoint_dir, YAML::Node& state) {
  state["replay_saved"] = save;
  state["replay_steps_added"] = buffer.steps_added();
  if (save) buffer.save((fs::path(checkpoint_dir) / "replay.bin").string());
}

int64_t restore_replay(ReplayBuffer& buffer, const VectorEnv& venv, const YAML::Node& state,
                       const std::string& checkpoint_dir, int64_t learning_starts, int64_t batch_size,
                       std::ostream& log) {
  const std::string path = (fs::path(checkpoint_dir) / "replay.bin").string();
  std::string why;
  if (!state["replay_saved"].as<bool>()) {
    why = "the replay buffer was not saved (agent.save_replay_buffer)";
  } else if (!fs::exists(path)) {
    why = path + " is missing";
  } else {
    try {
      buffer.load(path);
      if (buffer.steps_added() != state["replay_steps_added"].as<int64_t>()) {
        why = path + " does not belong to last.pt (written at another step)";
      }
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  if (why.empty()) return 0;
  // Refill: the env continues where it was, the buffer starts empty, and learning waits until
  // it holds what learning_starts (at least a batch) asked for. Not exact.
  buffer.clear();
  buffer.observe_reset(venv);
  const int64_t min_fill = std::min(buffer.capacity(), std::max(learning_starts, batch_size));
  log << "resuming without the replay buffer: " << why << "; refilling it with " << min_fill
      << " transitions before learning continues (the run will not match an uninterrupted one)" << std::endl;
  return min_fill;
}

}  // namespace rlforge
