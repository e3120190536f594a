#pragma once
// Subcommands that draw envs: `record` (GIF or PNG frames, headless) and `play` (a window,
// driven from the keyboard); and the window loop `eval --render` shares with `play`.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "rlforge/envs/episode_player.h"

namespace rlforge::cli {

// A trained policy ready to act, with the env config it was trained on. `owner` keeps the
// objects `choose` refers to alive.
struct PolicySource {
  VectorEnvConfig env;
  ActionChooser choose;
  std::string description;
  std::shared_ptr<void> owner;
};
// Loads the policy of a run directory or checkpoint (needs LibTorch; absent from builds without).
using RunLoader = std::function<PolicySource(const std::string& run_or_checkpoint, uint64_t seed, bool stochastic)>;

struct WatchSettings {
  std::optional<uint64_t> seed;
  int64_t episodes = 0;   // stop after this many episodes (0: until the window is closed)
  int64_t max_steps = 0;  // stop after this many steps in all (0: no limit)
  double steps_per_second = 0;  // 0: the env's own frame rate
  int width = 0, height = 0;    // 0: the env's own window size
};

// Plays episodes in a window with the viewer keys (space, →, +, −, r, q/Esc) and an overlay.
// `choose` may be null for keyboard control. Throws std::runtime_error with one line that
// suggests `rlforge record` when there is no display.
int watch_episodes(const VectorEnvConfig& env, const ActionChooser& choose, const WatchSettings& settings);

// "600x400" -> {600, 400}; throws std::invalid_argument naming the option and the text.
std::pair<int, int> parse_size(const std::string& option, const std::string& text);

void add_render_commands(CLI::App& app, int& exit_code, RunLoader load_run);

}  // namespace rlforge::cli
