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

namespace {
fs::path replay_file(const std::string& checkpoint_dir) { return fs::path(checkpoint_dir) / "replay.bin"; }
fs::path previous_replay_file(const std::string& checkpoint_dir) { return fs::path(checkpoint_dir) / "replay.prev.bin"; }
}  // namespace

void save_replay(const ReplayBuffer& buffer, bool save, const std::string& checkpoint_dir, YAML::Node& state) {
  state["replay_saved"] = save;
  state["replay_steps_added"] = buffer.steps_added();
  if (!save) return;
  // The buffer of the checkpoint before stays as replay.prev.bin (a second link, put in place by
  // rename): a run killed after the new replay.bin and before its last.pt resumes from the
  // previous last.pt with the buffer that belongs to it.
  const fs::path current = replay_file(checkpoint_dir), previous = previous_replay_file(checkpoint_dir);
  std::error_code ec;
  if (fs::exists(current)) {
    const fs::path link = previous.string() + ".tmp";
    fs::remove(link, ec);
    fs::create_hard_link(current, link, ec);
    if (!ec) fs::rename(link, previous, ec);
    if (ec) throw std::runtime_error("cannot keep " + current.string() + " as " + previous.string() + ": " + ec.message());
  }
  buffer.save(current.string());
}

int64_t restore_replay(ReplayBuffer& buffer, const VectorEnv& venv, const YAML::Node& state,
                       const std::string& checkpoint_dir, int64_t learning_starts, int64_t batch_size,
                       std::ostream& log) {
  std::string why;
  if (!state["replay_saved"].as<bool>()) {
    why = "the replay buffer was not saved (agent.save_replay_buffer)";
  } else {
    // replay.bin, or the one before it when the run was killed between replay.bin and last.pt.
    const int64_t steps_added = state["replay_steps_added"].as<int64_t>();
    for (const fs::path& path : {replay_file(checkpoint_dir), previous_replay_file(checkpoint_dir)}) {
      std::string problem;
      if (!fs::exists(path)) {
        problem = path.string() + " is missing";
      } else {
        try {
          buffer.load(path.string());
          if (buffer.steps_added() != steps_added) problem = path.string() + " does not belong to last.pt (written at another step)";
        } catch (const std::exception& e) {
          problem = e.what();
        }
      }
      if (problem.empty()) return 0;
      if (why.empty()) why = problem;
    }
  }
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
