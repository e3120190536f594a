#include "rlforge/envs/episode_player.h"

#include <stdexcept>

#include "rlforge/render/image_files.h"
#include "rlforge/render/offscreen_canvas.h"

namespace rlforge {

EpisodePlayer::EpisodePlayer(const VectorEnvConfig& config)
    : env_(make_configured_env(config)), obs_(env_->spec().observation_space.byte_size()) {}

void EpisodePlayer::reset(std::optional<uint64_t> seed) {
  env_->reset(seed, obs_.data());
  done_ = false;
  terminated_ = false;
  return_ = 0;
  length_ = 0;
}

StepResult EpisodePlayer::step(ActionRef action) {
  if (done_) throw EnvError(spec().id + ": step after the episode ended; call reset first");
  env_->validate_action(action);
  StepResult r = env_->step(action, obs_.data());
  ++length_;
  return_ += r.reward;
  const int64_t limit = spec().max_episode_steps;
  r.truncated = !r.terminated && (r.truncated || (limit > 0 && length_ >= limit));
  terminated_ = r.terminated;
  done_ = r.terminated || r.truncated;
  return r;
}

RecordedEpisodes record_episodes(EpisodePlayer& player, const ActionChooser& choose, FrameRecorder& recorder,
                                 const RecordingSettings& settings) {
  if (!player.env().can_render()) throw EnvError(player.spec().id + " has no renderer, so it cannot be recorded");
  if (settings.episodes <= 0) throw std::invalid_argument("episodes must be positive");
  OffscreenCanvas canvas(settings.width, settings.height);
  std::vector<uint8_t> rgb;
  RecordedEpisodes out;
  auto capture = [&] {
    player.render(canvas);
    canvas.read_rgb(rgb);
    recorder.add_frame(rgb.data());
    ++out.frames;
  };
  const int stride = std::max(1, settings.frame_stride);
  for (int e = 0; e < settings.episodes; ++e) {
    player.reset(e == 0 ? std::optional<uint64_t>(settings.seed) : std::nullopt);
    capture();
    while (!player.done()) {
      player.step(choose(player.observation()));
      if (player.done() || player.episode_length() % stride == 0) capture();
    }
    out.returns.push_back(player.episode_return());
    out.lengths.push_back(player.episode_length());
  }
  return out;
}

ActionChooser random_actions(const Space& action_space, uint64_t seed) {
  struct State {
    Space space;
    NumpyGenerator rng;
    std::vector<unsigned char> action;
  };
  auto state = std::make_shared<State>(State{action_space, NumpyGenerator(seed), std::vector<unsigned char>(action_space.byte_size())});
  return [state](const void*) {
    state->space.sample(state->rng, state->action.data());
    return ActionRef{state->action.data(), state->space.dtype(), state->space.size()};
  };
}

}  // namespace rlforge
