#pragma once
// One env played step by step for watching and recording. Unlike the vector env it does not
// reset an episode the moment it ends, so its last state can still be drawn; it applies the
// same episode limit and counts the same return.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/envs/vector_env.h"

namespace rlforge {

class FrameRecorder;  // rlforge/render/image_files.h

class EpisodePlayer {
 public:
  // The env of `config` (its id, options and wrappers; num_envs and threads are ignored).
  explicit EpisodePlayer(const VectorEnvConfig& config);

  const EnvSpec& spec() const { return env_->spec(); }
  Env& env() { return *env_; }

  // Starts an episode; a seed reseeds the env, none continues its generator.
  void reset(std::optional<uint64_t> seed);
  // Validates the action (EnvError names the env, the value and the space), then steps. After
  // the episode ends done() stays true until reset().
  StepResult step(ActionRef action);

  const void* observation() const { return obs_.data(); }
  bool done() const { return done_; }
  bool terminated() const { return terminated_; }
  double episode_return() const { return return_; }
  int64_t episode_length() const { return length_; }
  void render(Canvas& canvas) const { env_->render(canvas); }

 private:
  std::unique_ptr<Env> env_;
  std::vector<unsigned char> obs_;
  bool done_ = true, terminated_ = false;
  double return_ = 0;
  int64_t length_ = 0;
};

// Chooses an action for the observation it is given; the ActionRef must stay valid until the
// next call.
using ActionChooser = std::function<ActionRef(const void* observation)>;

struct RecordingSettings {
  int episodes = 1;
  uint64_t seed = 0;
  int width = 600, height = 400;
  int frame_stride = 1;  // keep every k-th frame (the first and the last of an episode always)
};

struct RecordedEpisodes {
  std::vector<double> returns;
  std::vector<int64_t> lengths;
  int frames = 0;
};

// Plays `settings.episodes` episodes (the first reset with the seed) and hands the drawn frames
// to `recorder`, which the caller finishes.
RecordedEpisodes record_episodes(EpisodePlayer& player, const ActionChooser& choose, FrameRecorder& recorder,
                                 const RecordingSettings& settings);

// A chooser that samples the action space uniformly, from its own generator seeded `seed`.
ActionChooser random_actions(const Space& action_space, uint64_t seed);

}  // namespace rlforge
