#include "render_commands.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <regex>
#include <thread>

#include "cli_errors.h"
#include "env_commands.h"
#include "keyboard_actions.h"
#include "rlforge/envs/errors.h"
#include "rlforge/render/image_files.h"
#include "rlforge/render/window_canvas.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

std::pair<int, int> parse_size(const std::string& option, const std::string& text) {
  static const std::regex pattern(R"(^([0-9]{1,5})x([0-9]{1,5})$)");
  std::smatch m;
  if (std::regex_match(text, m, pattern)) {
    const int w = std::stoi(m[1].str()), h = std::stoi(m[2].str());
    if (w > 0 && h > 0) return {w, h};
  }
  throw std::invalid_argument(option + " " + text + ": expected WIDTHxHEIGHT in pixels, both above zero (e.g. 600x400)");
}

namespace {

void require_renderer(EpisodePlayer& player) {
  if (!player.env().can_render()) throw EnvError(player.spec().id + " has no renderer, so it cannot be drawn");
}

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

}  // namespace

int watch_episodes(const VectorEnvConfig& env, const ActionChooser& choose_given, const WatchSettings& settings) {
  EpisodePlayer player(env);
  require_renderer(player);
  const RenderHints hints = player.env().render_hints();
  WindowCanvas* window = nullptr;
  // The keyboard mapping is checked before a window opens: an env without one fails at once.
  const ActionChooser choose =
      choose_given ? choose_given
                   : keyboard_actions(player.spec(), [&window](Key k) { return window != nullptr && window->is_held(k); });
  std::unique_ptr<WindowCanvas> owned;
  try {
    owned = std::make_unique<WindowCanvas>("rlforge: " + player.spec().id, settings.width > 0 ? settings.width : hints.width,
                                           settings.height > 0 ? settings.height : hints.height);
  } catch (const DisplayUnavailable& e) {
    throw std::runtime_error(std::string(e.what()) +
                             "; without a display, record episodes instead: rlforge record RUN_OR_ENV_ID --out episode.gif");
  }
  window = owned.get();

  using Clock = std::chrono::steady_clock;
  ViewerControls controls(settings.steps_per_second > 0 ? settings.steps_per_second : hints.fps);
  player.reset(settings.seed);
  int64_t episodes = 0, steps = 0;
  double frames_per_second = 0;
  Clock::time_point last_frame = Clock::now(), next_tick = last_frame;
  while (true) {
    const WindowEvents events = window->poll_events();
    for (Key k : events.pressed) controls.press(k);
    if (events.close_requested || controls.quit()) break;
    if (controls.take_reset()) {
      player.reset(std::nullopt);
    } else if (player.done()) {
      ++episodes;
      std::cout << "episode " << episodes << ": return " << fixed(player.episode_return(), 2) << ", length "
                << player.episode_length() << std::endl;
      if (settings.episodes > 0 && episodes >= settings.episodes) break;
      player.reset(std::nullopt);
    } else if (controls.take_step()) {
      player.step(choose(player.observation()));
      ++steps;
    }
    player.render(*window);
    std::vector<std::string> overlay = {
        "step " + std::to_string(player.episode_length()) + "   return " + fixed(player.episode_return(), 1),
        fixed(frames_per_second, 0) + " fps   speed " + fixed(controls.steps_per_second(), 1) + " steps/s" +
            (controls.paused() ? "   PAUSED" : "")};
    draw_overlay(*window, overlay);
    window->present();
    if (settings.max_steps > 0 && steps >= settings.max_steps) break;

    const Clock::time_point now = Clock::now();
    const double frame_seconds = std::chrono::duration<double>(now - last_frame).count();
    last_frame = now;
    if (frame_seconds > 0) frames_per_second = frames_per_second == 0 ? 1 / frame_seconds : 0.9 * frames_per_second + 0.1 / frame_seconds;
    next_tick += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / controls.steps_per_second()));
    if (next_tick < now) next_tick = now;  // behind (slow drawing or a speed change): do not rush to catch up
    std::this_thread::sleep_until(next_tick);
  }
  std::cout << "watched " << steps << " steps, " << episodes << " finished episodes" << std::endl;
  return 0;
}

namespace {

struct RecordArgs {
  std::string target, out, size;
  int episodes = 1;
  double fps = 0;
  int64_t seed = 0;
  bool stochastic = false;
  std::vector<std::string> assignments;
  std::vector<std::string> plugins;
};

int record(const RecordArgs& args, const RunLoader& load_run) {
  std::pair<int, int> size{0, 0};
  if (!args.size.empty()) size = parse_size("--size", args.size);
  load_plugins(args.plugins);
  PolicySource source;
  if (fs::exists(args.target)) {
    if (!load_run) throw std::runtime_error("recording a trained run needs LibTorch, which this build was made without");
    if (!args.assignments.empty()) throw std::invalid_argument("--set applies to an env id; a run records with its own env options");
    source = load_run(args.target, static_cast<uint64_t>(args.seed), args.stochastic);
  } else {
    source.env.id = args.target;
    source.env.options = parse_assignments(args.assignments);
    source.description = "random actions";
  }
  EpisodePlayer player(source.env);  // an unknown id fails here, naming the known ones
  require_renderer(player);
  if (!source.choose) source.choose = random_actions(player.spec().action_space, static_cast<uint64_t>(args.seed));
  const RenderHints hints = player.env().render_hints();
  const int width = size.first > 0 ? size.first : hints.width, height = size.second > 0 ? size.second : hints.height;
  // Fewer frames per second than the env runs at: keep every k-th frame, so the GIF still plays in
  // real time.
  const double wanted_fps = args.fps > 0 ? args.fps : hints.fps;
  const int stride = std::max(1, static_cast<int>(std::lround(hints.fps / wanted_fps)));
  const double fps = hints.fps / stride;
  const std::unique_ptr<FrameRecorder> recorder = open_recorder(args.out, width, height, fps);

  RecordingSettings settings;
  settings.episodes = args.episodes;
  settings.seed = static_cast<uint64_t>(args.seed);
  settings.width = width;
  settings.height = height;
  settings.frame_stride = stride;
  const RecordedEpisodes r = record_episodes(player, source.choose, *recorder, settings);
  recorder->finish();
  std::cout << "recorded " << player.spec().id << " (" << source.description << ")\n";
  for (size_t i = 0; i < r.returns.size(); ++i) {
    std::cout << "episode " << i + 1 << ": return " << fixed(r.returns[i], 2) << ", length " << r.lengths[i] << "\n";
  }
  std::cout << "frames: " << r.frames << " at " << width << "x" << height << ", " << fixed(fps, 1) << " frames/s\n"
            << "written: " << args.out << std::endl;
  return 0;
}

struct PlayArgs {
  std::string id, size;
  int64_t seed = 0, max_steps = 0, episodes = 0;
  double fps = 0;
  std::vector<std::string> assignments;
  std::vector<std::string> plugins;
};

int play(const PlayArgs& args) {
  load_plugins(args.plugins);
  WatchSettings settings;
  if (!args.size.empty()) std::tie(settings.width, settings.height) = parse_size("--size", args.size);
  settings.seed = static_cast<uint64_t>(args.seed);
  settings.max_steps = args.max_steps;
  settings.episodes = args.episodes;
  settings.steps_per_second = args.fps;
  VectorEnvConfig env;
  env.id = args.id;
  env.options = parse_assignments(args.assignments);
  std::cout << "keys: arrows drive (see `rlforge play --help`); space pauses, right arrow steps while paused, + and - "
               "change speed, r resets, q or Esc quits"
            << std::endl;
  return watch_episodes(env, nullptr, settings);
}

}  // namespace

void add_render_commands(CLI::App& app, int& exit_code, RunLoader load_run) {
  auto* rec = app.add_subcommand(
      "record", "Record episodes to an animated GIF or PNG frames, headless: a trained run's policy, or random actions on an env id");
  auto rargs = std::make_shared<RecordArgs>();
  rec->add_option("RUN_OR_ENV_ID", rargs->target, "Run directory, checkpoint file, or env id (random actions)")->required();
  rec->add_option("--out", rargs->out, "FILE.gif (animated GIF) or DIR/ (numbered PNG frames)")->required();
  rec->add_option("--episodes", rargs->episodes, "Episodes to record")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  rec->add_option("--fps", rargs->fps, "Frames per second of the recording (default: the env's; lower keeps every k-th frame)")
      ->check(CLI::PositiveNumber);
  rec->add_option("--seed", rargs->seed, "Seed of the env (and of random actions)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  rec->add_option("--size", rargs->size, "Frame size WIDTHxHEIGHT (default: the env's window size)");
  rec->add_flag("--stochastic", rargs->stochastic, "Sample the policy's actions instead of taking the most likely");
  rec->add_option("--set", rargs->assignments, "Env option as key=value, for an env id (repeatable)");
  add_plugin_option(*rec, rargs->plugins);
  rec->callback([&exit_code, rargs, load_run] {
    exit_code = run_reporting_errors([&] { return record(*rargs, load_run); });
  });

  auto* play_cmd = app.add_subcommand("play", "Drive an env from the keyboard in a window");
  play_cmd->footer("Keys per env:\n" + keyboard_help());
  auto pargs = std::make_shared<PlayArgs>();
  play_cmd->add_option("ENV_ID", pargs->id, "Environment id (see `rlforge envs`)")->required();
  play_cmd->add_option("--seed", pargs->seed, "Seed of the first episode")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  play_cmd->add_option("--size", pargs->size, "Window size WIDTHxHEIGHT (default: the env's)");
  play_cmd->add_option("--fps", pargs->fps, "Steps per second (default: the env's frame rate)")->check(CLI::PositiveNumber);
  play_cmd->add_option("--max-steps", pargs->max_steps, "Stop after this many steps (default: when the window closes)")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  play_cmd->add_option("--episodes", pargs->episodes, "Stop after this many episodes")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  play_cmd->add_option("--set", pargs->assignments, "Env option as key=value (repeatable)");
  add_plugin_option(*play_cmd, pargs->plugins);
  play_cmd->callback([&exit_code, pargs] { exit_code = run_reporting_errors([&] { return play(*pargs); }); });
}

}  // namespace rlforge::cli
