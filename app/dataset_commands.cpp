#include "dataset_commands.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>

#include "cli_errors.h"
#include "rlforge/data/datasheet.h"
#include "env_commands.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/data/recording.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

struct RecordArgs {
  std::string policy, env, out;
  int64_t steps = 0, seed = 0;
  bool stochastic = false;
  std::vector<std::string> assignments;
  std::vector<std::string> wrappers;  // NAME or NAME:key=value:key=value
  std::vector<std::string> plugins;
};

// "ResizeObservation:height=64:width=64" -> the wrapper with its options (checked when the env
// is built, like a config's).
WrapperSpec parse_wrapper(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t colon; (colon = text.find(':', start)) != std::string::npos; start = colon + 1) {
    parts.push_back(text.substr(start, colon - start));
  }
  parts.push_back(text.substr(start));
  if (parts.front().empty()) throw std::invalid_argument("--wrapper '" + text + "': expected NAME or NAME:key=value:...");
  WrapperSpec spec;
  spec.name = parts.front();
  spec.options = parse_assignments({parts.begin() + 1, parts.end()});
  return spec;
}

std::atomic<bool> stop_requested{false};
extern "C" void stop_dataset_recording(int) {
  stop_requested.store(true);
}

// Ctrl-C or SIGTERM stop the recording cleanly (the writer removes its temporary directory);
// the previous handlers come back afterwards.
class StopOnSignal {
 public:
  StopOnSignal()
      : old_int_(std::signal(SIGINT, stop_dataset_recording)),
        old_term_(std::signal(SIGTERM, stop_dataset_recording)) {}
  ~StopOnSignal() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

int record(const RecordArgs& args, const RunLoader& load_run) {
  load_plugins(args.plugins);
  PolicySource source;
  const auto seed = static_cast<uint64_t>(args.seed);
  if (args.policy == "random") {
    if (args.env.empty()) throw std::invalid_argument("--env ID is needed with --policy random");
    if (args.stochastic)
      throw std::invalid_argument("--stochastic applies to a run's policy, not to random actions");
    source.env.id = args.env;
    source.env.options = parse_assignments(args.assignments);
    for (const std::string& w : args.wrappers) source.env.wrappers.push_back(parse_wrapper(w));
    source.description = "random actions, seed " + std::to_string(seed);
  } else {
    if (!fs::exists(args.policy)) {
      throw std::invalid_argument("--policy " + args.policy +
                                  ": no such run directory or checkpoint (or 'random')");
    }
    if (!load_run)
      throw std::runtime_error(
          "recording a trained policy needs LibTorch, which this build was made without");
    if (!args.assignments.empty() || !args.wrappers.empty())
      throw std::invalid_argument(
          "--set and --wrapper apply to --policy random; a run records with its own env options and wrappers");
    source = load_run(args.policy, seed, args.stochastic);
    if (!args.env.empty() && args.env != source.env.id) {
      throw std::invalid_argument("--env " + args.env +
                                  " differs from the env the run was trained on, " + source.env.id +
                                  " (leave --env out to use the run's)");
    }
  }
  EpisodePlayer player(source.env);  // an unknown id fails here, naming the known ones
  if (!source.choose) source.choose = random_actions(player.spec().action_space, seed);
  DatasetRecordingSettings settings;
  settings.min_steps = args.steps;
  settings.seed = seed;
  settings.policy_description = source.description;
  settings.should_stop = [] { return stop_requested.load(); };
  const StopOnSignal stop_on_signal;
  const DatasetRecordingResult r = record_dataset(player, source.choose, args.out, settings);
  std::cout << "recorded " << r.steps << " steps in " << r.episodes
            << (r.episodes == 1 ? " episode" : " episodes") << " of " << player.spec().id << " ("
            << source.description << "): mean return " << fixed(r.returns.mean, 2) << " +- "
            << fixed(r.returns.std, 2) << ", written to " << r.directory << std::endl;
  std::cout << "datasheet: " << write_dataset_datasheet(r.directory) << std::endl;
  return 0;
}

int info(const std::string& target) {
  const EpisodeDataset ds = EpisodeDataset::open(target);  // checks both checksums
  const ReturnStatistics r = return_statistics(ds);
  int64_t terminated = 0;
  for (int64_t i = 0; i < ds.num_episodes(); ++i) terminated += ds.episode(i).terminated;
  std::cout << "dataset: " << ds.path() << "\n"
            << "format_version: " << ds.format_version() << "\n"
            << "env: " << ds.env_id() << "\n"
            << "observation_space: " << ds.observation_space().describe() << "\n"
            << "action_space: " << ds.action_space().describe() << "\n"
            << "steps: " << ds.num_steps() << "\n"
            << "episodes: " << ds.num_episodes() << " (" << terminated << " terminated, "
            << ds.num_episodes() - terminated << " truncated)\n"
            << "mean_return: " << fixed(r.mean, 3) << "\n"
            << "std_return: " << fixed(r.std, 3) << "\n"
            << "min_return: " << fixed(r.min, 3) << "\n"
            << "max_return: " << fixed(r.max, 3) << "\n"
            << "policy: " << ds.policy_description() << "\n"
            << "created: " << ds.created() << "\n"
            << "checksum: ok" << std::endl;
  return 0;
}

}  // namespace

void add_dataset_commands(CLI::App& app, int& exit_code, RunLoader load_run) {
  auto* dataset = app.add_subcommand("dataset",
                                     "Record episode datasets (for behaviour cloning and "
                                     "self-supervised pretraining) and inspect them");
  dataset->require_subcommand(1);

  auto* rec = dataset->add_subcommand("record",
                                      "Record whole episodes of a trained run's policy or of "
                                      "random actions into a dataset directory");
  rec->footer(
      "Episodes are recorded whole, until at least --steps steps: the last one finishes, so the "
      "dataset usually holds a few "
      "more. --out must be new or an empty directory (an existing dataset is never overwritten); "
      "it receives episodes.bin "
      "and info.yaml together, and nothing when recording fails.");
  auto rargs = std::make_shared<RecordArgs>();
  rec->add_option("--policy", rargs->policy,
                  "Run directory or checkpoint whose policy acts, or 'random'")
      ->required();
  rec->add_option(
      "--env", rargs->env,
      "Environment id (see `rlforge envs`); needed with --policy random, else the run's");
  rec->add_option("--steps", rargs->steps, "Record whole episodes until at least this many steps")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  rec->add_option("--out", rargs->out, "Dataset directory to create")->required();
  rec->add_option("--seed", rargs->seed,
                  "Seed of the first episode (later ones continue the env's generator) and of "
                  "random actions")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  rec->add_flag("--stochastic", rargs->stochastic,
                "Sample the policy's actions instead of taking the most likely");
  rec->add_option("--set", rargs->assignments,
                  "Env option as key=value, with --policy random (repeatable)");
  rec->add_option("--wrapper", rargs->wrappers,
                  "With --policy random: wrap the env, as NAME or NAME:key=value:... in order (repeatable), "
                  "e.g. the frames a PPO config sees: --wrapper ResizeObservation:height=64:width=64 "
                  "--wrapper GrayscaleObservation --wrapper FrameStack:num_stack=2");
  add_plugin_option(*rec, rargs->plugins);
  rec->callback([&exit_code, rargs, load_run] {
    exit_code = run_reporting_errors([&] { return record(*rargs, load_run); });
  });

  auto* info_cmd = dataset->add_subcommand(
      "info", "Check a dataset's checksums and print its env, spaces, steps, episodes and returns");
  auto target = std::make_shared<std::string>();
  info_cmd->add_option("DATASET", *target, "Dataset directory or its episodes.bin")->required();
  info_cmd->callback(
      [&exit_code, target] { exit_code = run_reporting_errors([&] { return info(*target); }); });

  auto* sheet_cmd = dataset->add_subcommand(
      "datasheet", "Write DATASET/DATASHEET.md again (Gebru et al.'s sections, filled from the dataset)");
  auto sheet_target = std::make_shared<std::string>();
  sheet_cmd->add_option("DATASET", *sheet_target, "Dataset directory or its episodes.bin")->required();
  sheet_cmd->callback([&exit_code, sheet_target] {
    exit_code = run_reporting_errors([&] {
      std::cout << "datasheet: " << write_dataset_datasheet(*sheet_target) << std::endl;
      return 0;
    });
  });
}

}  // namespace rlforge::cli
