#include "train_commands.h"

#include "loaded_agent.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <limits>
#include <memory>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "cli_errors.h"
#include "launch.h"
#include "env_commands.h"
#include "experiment.h"
#include "explain_commands.h"
#include "render_commands.h"
#include "rlforge/envs/seeds.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/evaluation/drift.h"
#include "rlforge/evaluation/evaluation.h"
#include "rlforge/trainers/compute_threads.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/progress.h"
#include "rlforge/trainers/trainer.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string out;
  std::string resume;
  int nproc = 0;
  bool all_folds = false;
  std::vector<std::string> plugins;
  std::string seeds;  // an experiment: one run per seed
  int jobs = 1;
  std::string run_dir;  // train into this exact (new or empty) directory
};

// Set by Ctrl-C: the trainer finishes its update, writes last.pt and stops.
std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) { stop_requested.store(true); }

int train_all_folds(const TrainArgs& args);

int train(const TrainArgs& args) {
  if (!args.seeds.empty()) {
    if (!args.resume.empty() || args.nproc > 1 || args.all_folds || !args.run_dir.empty()) {
      throw ConfigError("--seeds starts an experiment; it does not combine with --resume, --nproc, --all-folds or --run-dir");
    }
    if (args.config.empty()) throw ConfigError("train --seeds: a CONFIG file is required");
    return run_experiment({args.config, args.overrides, args.plugins, args.seeds, args.jobs, args.out});
  }
  if (!args.resume.empty() && is_experiment_dir(args.resume)) {
    if (!args.config.empty() || !args.overrides.empty()) {
      throw ConfigError("--resume " + args.resume + ": an experiment resumes with the config it started with; drop CONFIG and --set");
    }
    return resume_experiment(args.resume, args.jobs);
  }
  load_plugins(args.plugins);
  if (args.all_folds) return train_all_folds(args);
  if (!args.run_dir.empty() && !args.resume.empty()) throw ConfigError("--run-dir names a new run; --resume an old one");
  std::string config_path = args.config;
  if (!args.resume.empty() && config_path.empty()) config_path = (fs::path(args.resume) / "config.yaml").string();
  if (config_path.empty()) throw ConfigError("train: a CONFIG file is required (or --resume RUN_DIR)");
  ExperimentConfig config = load_config(config_path, args.overrides);
  // Under torchrun's variables (WORLD_SIZE > 1) this process is one rank of a data-parallel run.
  const DistributedEnv dist_env = read_distributed_env();
  if (args.nproc > 0 && dist_env.world_size > 1) {
    throw ConfigError("--nproc " + std::to_string(args.nproc) + ": already one of WORLD_SIZE=" +
                      std::to_string(dist_env.world_size) + " ranks; use either --nproc or torchrun's variables");
  }
  if ((args.nproc > 1 || dist_env.world_size > 1) && uses_replay_buffer(config.algo)) {
    throw ConfigError(replay_one_process_message(config.algo, args.nproc > 1 ? args.nproc : dist_env.world_size));
  }
  const int ranks = args.nproc > 1 ? args.nproc : dist_env.world_size;
  if (ranks > 1 && config.learns_from_data() && !(config.algo == "supervised" && config.federated.enabled)) {
    throw ConfigError("agent.algo " + config.algo + " runs in one process (" + std::to_string(ranks) +
                      " ranks asked for); data-parallel training is for PPO, federated averaging for supervised tables "
                      "(agent.federated.enabled)");
  }
  const std::size_t client_files = config.federated.client_data.size();
  if (client_files > 0 && client_files != static_cast<std::size_t>(std::max(ranks, 1))) {
    throw ConfigError(config.source + ": agent.federated.client_data: " + std::to_string(client_files) + " files for " +
                      std::to_string(std::max(ranks, 1)) + " clients (one per rank: --nproc N)");
  }
  const std::size_t client_envs = config.federated.client_env_options.size();
  if (config.federated.enabled && client_envs > 0 && client_envs != static_cast<std::size_t>(ranks)) {
    throw ConfigError("agent.federated.client_env_options: " + std::to_string(client_envs) + " entries for " +
                      std::to_string(ranks) + " clients (ranks); give one per rank");
  }
  if (args.nproc > 1) {
    if (!distributed_supported()) {
      throw ConfigError("--nproc: this rlforge was built without Gloo (install libgloo-dev and rebuild)");
    }
    return launch_local_ranks(args.nproc);
  }
  Distributed distributed(dist_env, config.run.backend, resolve_device(config.run.device),
                          std::chrono::seconds(config.trainer.dist_timeout_seconds));
  std::string run_dir = args.resume;
  if (!run_dir.empty() && !fs::is_directory(run_dir)) {
    throw std::runtime_error("--resume " + run_dir + ": no such run directory");
  }
  if (run_dir.empty() && distributed.lead() && !args.run_dir.empty()) {
    std::error_code ec;
    if (fs::exists(args.run_dir) && !fs::is_empty(args.run_dir, ec)) {
      throw std::runtime_error("--run-dir " + args.run_dir + ": exists and is not empty (resume a run with --resume)");
    }
    fs::create_directories(fs::path(args.run_dir) / "checkpoints", ec);
    if (ec) throw std::runtime_error("--run-dir " + args.run_dir + ": cannot create it: " + ec.message());
    run_dir = args.run_dir;
  } else if (run_dir.empty() && distributed.lead()) {
    const std::string out_dir = args.out.empty() ? config.run.out_dir : args.out;
    run_dir = make_run_dir(out_dir, config.run.name);
  }
  run_dir = distributed.share("run_dir", run_dir);  // rank 0 names it
  if (distributed.lead()) std::cout << "run directory: " << run_dir << std::endl;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  const bool trainer_learns_from_data = config.learns_from_data();
  Trainer trainer(std::move(config), run_dir, std::cout);
  RunControl control;
  control.resume = !args.resume.empty();
  control.stop_requested = &stop_requested;
  control.terminal = ProgressReporter::stdout_is_terminal();
  control.distributed = &distributed;
  TrainResult r;
  try {
    r = trainer.run(control);
  } catch (...) {
    // A new run that failed before its first checkpoint (bad data, a layer that does not fit)
    // holds nothing to resume: leave no directory behind.
    std::error_code ec;
    if (args.resume.empty() && distributed.lead() && !fs::exists(fs::path(run_dir) / "checkpoints" / "last.pt", ec)) {
      fs::remove_all(run_dir, ec);
    }
    throw;
  }
  if (!distributed.lead()) return r.stopped ? 130 : 0;
  const bool from_data = trainer_learns_from_data;
  std::cout << (from_data ? "epochs: " : "env_steps: ") << r.env_steps << "\n"
            << "wall_seconds: " << r.wall_seconds << "\n";
  if (r.stopped) {
    std::cout << "stopped: resume with rlforge train --resume " << r.run_dir << std::endl;
    return 130;
  }
  if (from_data) {
    // The validation figures of the last epoch (the test split's are in summary.yaml).
    std::cout << "final_eval:";
    for (const auto& [name, value] : r.final_metrics) std::cout << " " << name << " " << value;
    std::cout << "\n";
  } else {
    std::cout << "final_eval: mean_return " << r.final_eval.mean_return << " std_return "
              << r.final_eval.std_return << " episodes " << r.final_eval.episodes << "\n";
  }
  std::cout << "run directory: " << r.run_dir << std::endl;
  return 0;
}

// --all-folds: one run per fold of data.k_folds (fold K validates, the rest trains), each in
// RUN_DIR/fold-K, then each validation metric of the selected models (summary.yaml's best_eval)
// as mean, standard deviation and per-fold values in RUN_DIR/cross_validation.yaml.
int train_all_folds(const TrainArgs& args) {
  if (!args.resume.empty()) throw ConfigError("--all-folds starts new runs; resume a fold with --resume RUN_DIR/fold-K");
  if (args.nproc > 1) throw ConfigError("--all-folds runs in one process; drop --nproc");
  if (args.config.empty()) throw ConfigError("train --all-folds: a CONFIG file is required");
  const ExperimentConfig base = load_config(args.config, args.overrides);
  if (!base.learns_from_data() || base.data.k_folds < 2) {
    throw ConfigError(args.config + ": --all-folds needs data.k_folds >= 2 (cross-validation of a supervised or "
                      "self-supervised run); data.k_folds is " + std::to_string(base.data.k_folds));
  }
  const int64_t folds = base.data.k_folds;
  const std::string run_dir = make_run_dir(args.out.empty() ? base.run.out_dir : args.out, base.run.name + "-cv");
  std::error_code ignored;
  fs::remove(fs::path(run_dir) / "checkpoints", ignored);  // empty: each fold keeps its own
  std::cout << "run directory: " << run_dir << std::endl;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  std::vector<std::string> names;  // in the order the first fold reports them
  std::map<std::string, std::vector<double>> values;
  std::string select_metric;
  for (int64_t k = 0; k < folds; ++k) {
    std::vector<std::string> overrides = args.overrides;
    overrides.push_back("data.fold=" + std::to_string(k));
    const fs::path fold_dir = fs::path(run_dir) / ("fold-" + std::to_string(k));
    fs::create_directories(fold_dir);
    std::cout << "fold " << k << " of " << folds << ": " << fold_dir.string() << std::endl;
    Trainer trainer(load_config(args.config, overrides), fold_dir.string(), std::cout);
    RunControl control;
    control.stop_requested = &stop_requested;
    control.terminal = ProgressReporter::stdout_is_terminal();
    const TrainResult r = trainer.run(control);
    if (r.stopped) {
      std::cout << "stopped in fold " << k << ": resume it with rlforge train --resume " << fold_dir.string()
                << "; the folds after it have not run" << std::endl;
      return 130;
    }
    const YAML::Node summary = YAML::LoadFile((fold_dir / "summary.yaml").string());
    if (k == 0 && summary["select_metric"]) select_metric = summary["select_metric"].as<std::string>();
    const YAML::Node best = summary["best_eval"];
    for (const auto& item : best) {
      const std::string name = item.first.as<std::string>();
      if (name == "epoch") continue;
      if (values.count(name) == 0) names.push_back(name);
      values[name].push_back(item.second.as<double>());
    }
  }
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "folds" << YAML::Value << folds << YAML::Key << "select_metric"
      << YAML::Value << select_metric << YAML::Key << "validation" << YAML::Value << YAML::BeginMap;
  std::cout << "cross_validation (" << folds << " folds, validation metrics of each fold's selected model):\n";
  for (const std::string& name : names) {
    const std::vector<double>& v = values[name];
    double mean = 0, square = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    for (double x : v) square += (x - mean) * (x - mean);
    const double std = std::sqrt(square / static_cast<double>(v.size()));
    out << YAML::Key << name << YAML::Value << YAML::BeginMap << YAML::Key << "mean" << YAML::Value << mean
        << YAML::Key << "std" << YAML::Value << std << YAML::Key << "folds" << YAML::Value << YAML::Flow << v
        << YAML::EndMap;
    std::cout << "  " << name << " " << mean << " +- " << std << "\n";
  }
  out << YAML::EndMap << YAML::EndMap;
  write_file_atomically((fs::path(run_dir) / "cross_validation.yaml").string(), std::string(out.c_str()) + "\n");
  std::cout << "run directory: " << run_dir << std::endl;
  return 0;
}

struct EvalArgs {
  std::string target;
  int64_t episodes = 10;
  int64_t seed = -1;  // -1: the run's held-out test seeds
  bool stochastic = false;
  bool render = false;
  bool random = false;  // RUN is an env id: uniform random actions (the baseline normalised scores start from)
  bool monitor = false;  // each episode's novelty under RUN/monitor.yaml (fitted first if missing)
  std::vector<std::string> plugins;
  std::vector<std::string> env_options;  // KEY=VALUE: the env as the agent meets it, changed
};

PolicySource loaded_policy(const std::shared_ptr<LoadedAgent>& agent, bool stochastic) {
  PolicySource source;
  source.env = agent->config.env;
  const EnvSpec spec = EpisodePlayer(source.env).spec();
  source.choose = agent_actions(*agent->agent, spec, !stochastic, agent->agent->generator());
  source.description = "policy of " + agent->checkpoint + ", " + std::to_string(agent->info.env_steps) + " env steps" +
                       (stochastic ? ", sampled actions" : "");
  source.owner = agent;
  return source;
}

PolicySource policy_source(const std::string& target, uint64_t seed, bool stochastic) {
  return loaded_policy(std::make_shared<LoadedAgent>(load_agent(target, seed)), stochastic);
}

// Episode i resets with seed + i; actions from a generator of their own, seeded `seed`.
int eval_random(const EvalArgs& args) {
  if (args.stochastic || args.render) throw ConfigError("--random: drop --stochastic and --render");
  const uint64_t seed = args.seed < 0 ? 0 : static_cast<uint64_t>(args.seed);
  VectorEnvConfig config;
  config.id = args.target;
  EpisodePlayer player(config);
  const ActionChooser choose = random_actions(player.spec().action_space, seed);
  std::vector<double> returns;
  double length = 0;
  for (int64_t i = 0; i < args.episodes; ++i) {
    player.reset(seed + static_cast<uint64_t>(i));
    while (!player.done()) player.step(choose(player.observation()));
    returns.push_back(player.episode_return());
    length += static_cast<double>(player.episode_length());
  }
  double mean = 0, square = 0;
  for (const double r : returns) mean += r;
  mean /= static_cast<double>(returns.size());
  for (const double r : returns) square += (r - mean) * (r - mean);
  std::cout << "policy: uniform random actions on " << args.target << "\n"
            << "episodes: " << returns.size() << "\n"
            << "seed: " << seed << " (episode i resets with seed + i)\n"
            << "mean_length: " << length / static_cast<double>(returns.size()) << "\n"
            << "mean_return: " << mean << "\n"
            << "std_return: " << std::sqrt(square / static_cast<double>(returns.size())) << std::endl;
  return 0;
}

// The episodes of evaluate_agent(), each also scored by the run's drift monitor (printed one a
// line; their novelties go into `novelties`).
EvaluationResult evaluate_monitored(Agent& agent, const DriftMonitor& monitor, const VectorEnvConfig& env,
                                    int64_t episodes, uint64_t seed, bool deterministic,
                                    std::vector<double>& novelties) {
  torch::Generator& generator = agent.generator();
  const ExplorationScope own_noise(agent, deterministic, std::min<int64_t>(episodes, env.num_envs), generator);
  const MonitoredEpisodes run = run_monitored_episodes(
      [&](const torch::Tensor& observations) { return agent.act(observations, deterministic, generator); }, env,
      episodes, seed);
  EvaluationResult r;
  r.episodes = static_cast<int64_t>(run.outcomes.returns.size());
  for (std::size_t i = 0; i < run.episodes.size(); ++i) {
    const double novelty = monitor.novelty(run.episodes[i]);
    novelties.push_back(novelty);
    std::cout << "episode " << i + 1 << ": return " << run.outcomes.returns[i] << ", length "
              << run.outcomes.lengths[i] << ", novelty " << novelty << (monitor.alarm(novelty) ? ", ALARM" : "")
              << "\n";
    r.mean_return += run.outcomes.returns[i];
    r.mean_length += static_cast<double>(run.outcomes.lengths[i]);
  }
  r.mean_return /= static_cast<double>(r.episodes);
  r.mean_length /= static_cast<double>(r.episodes);
  for (const double v : run.outcomes.returns) r.std_return += (v - r.mean_return) * (v - r.mean_return);
  r.std_return = std::sqrt(r.std_return / static_cast<double>(r.episodes));
  return r;
}

int eval(const EvalArgs& args) {
  load_plugins(args.plugins);
  if (args.monitor && (args.random || args.render)) throw ConfigError("--monitor: drop --random and --render");
  if (args.random) return eval_random(args);
  const bool held_out = args.seed < 0;
  const auto loaded = std::make_shared<LoadedAgent>(
      load_agent(args.target, held_out ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(args.seed))));
  if (args.render) {
    const PolicySource source = loaded_policy(loaded, args.stochastic);
    std::cout << "watching the " << source.description << std::endl;
    WatchSettings settings;
    settings.seed = loaded->seed;
    settings.episodes = args.episodes;
    return watch_episodes(source.env, source.choose, settings);
  }
  std::optional<DriftMonitor> monitor;
  if (args.monitor) monitor = run_drift_monitor(args.target, *loaded, false, kMonitorFitEpisodes, std::cout);
  const LoadedAgent& agent = *loaded;
  const std::string& checkpoint = agent.checkpoint;
  const Checkpoint& info = agent.info;
  Agent& trained = *agent.agent;
  VectorEnvConfig env = agent.config.env;
  for (const std::string& option : args.env_options) {
    const auto [name, value] = Options::parse_assignment(option);
    env.options.set(name, value);
  }
  env.num_envs = static_cast<int>(std::min<int64_t>(args.episodes, 8));
  env.threads = 1;
  std::vector<double> novelties;
  const EvaluationResult r =
      monitor ? evaluate_monitored(trained, *monitor, env, args.episodes, agent.seed, !args.stochastic, novelties)
              : evaluate_agent(trained, env, args.episodes, agent.seed, !args.stochastic, trained.generator());
  std::cout << "checkpoint: " << checkpoint << " (" << info.env_steps << " env steps)\n"
            << "episodes: " << r.episodes << "\n"
            << "seed: " << agent.seed
            << (held_out ? " (held-out test seeds: the run's seed + " + std::to_string(seeds::kTestOffset) + ")" : "")
            << "\n"
            << "mean_length: " << r.mean_length << "\n"
            << "mean_return: " << r.mean_return << "\n"
            << "std_return: " << r.std_return << std::endl;
  if (monitor) {
    double mean_novelty = 0;
    for (const double n : novelties) mean_novelty += n;
    std::cout << "mean_novelty: " << mean_novelty / static_cast<double>(novelties.size()) << "\n"
              << "alarm_rate: " << alarm_rate(*monitor, novelties) << " (episodes with novelty above "
              << monitor->threshold << "; about 0.05 where the env is as the monitor learned it)" << std::endl;
  }
  return 0;
}

}  // namespace

RunLoader trained_policy_loader() { return policy_source; }

void add_train_commands(CLI::App& app, int& exit_code) {
  auto* train_cmd = app.add_subcommand("train", "Train an agent from a YAML config");
  auto targs = std::make_shared<TrainArgs>();
  train_cmd->add_option("CONFIG", targs->config, "YAML config (see configs/); optional with --resume");
  train_cmd->add_option("--set", targs->overrides, "Override a config key: key.path=value (repeatable)");
  train_cmd->add_option("--out", targs->out, "Parent directory of the run directory (default: run.out_dir)");
  train_cmd->add_option("--resume", targs->resume,
                        "Continue the run in this directory exactly where its last checkpoint left it");
  train_cmd->add_option("--nproc", targs->nproc,
                        distributed_supported()
                            ? "Data-parallel PPO in N local processes (Gloo over loopback); each runs the config's envs"
                            : "Data-parallel PPO in N local processes (unavailable: built without Gloo)")
      ->check(CLI::Range(1, 1024));
  train_cmd->add_flag("--all-folds", targs->all_folds,
                      "Cross-validation: one run per fold of data.k_folds, then the mean and spread of each "
                      "validation metric in RUN_DIR/cross_validation.yaml");
  train_cmd->add_option("--seeds", targs->seeds,
                        "An experiment: one run per seed (1-10, 1,4,9 or 1-3,7) in one folder with a manifest, then "
                        "their report; resume it with --resume EXPERIMENT");
  train_cmd->add_option("--jobs", targs->jobs, "With --seeds: runs at a time")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  train_cmd->add_option("--run-dir", targs->run_dir, "Train into this directory (new or empty) instead of a new one under --out");
  add_plugin_option(*train_cmd, targs->plugins);
  train_cmd->callback([&exit_code, targs] { exit_code = run_reporting_errors([&] { return train(*targs); }); });

  auto* eval_cmd = app.add_subcommand("eval", "Evaluate a trained agent: prints mean_return and std_return");
  auto eargs = std::make_shared<EvalArgs>();
  eval_cmd->add_option("RUN", eargs->target, "Run directory (its best checkpoint) or checkpoint file; an env id with --random")->required();
  eval_cmd->add_option("--episodes", eargs->episodes, "Episodes to run")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  eval_cmd->add_option("--seed", eargs->seed,
                       "Seed of the evaluation envs (>= 0); default: the run's held-out test seeds, its run.seed + "
                       "2000000, which neither training nor the in-training evaluations use")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  eval_cmd->add_flag("--stochastic", eargs->stochastic, "Sample actions instead of taking the most likely");
  eval_cmd->add_option("--env-option", eargs->env_options,
                       "Evaluate on the run's env with this option changed, KEY=VALUE (repeatable), e.g. gravity=-6");
  eval_cmd->add_flag("--render", eargs->render,
                     "Watch the episodes in a window (space pauses, right arrow steps, + and - change speed, r resets, "
                     "q quits); needs a display, else use `rlforge record`");
  eval_cmd->add_flag("--random", eargs->random,
                     "RUN is an env id: evaluate uniform random actions, episode i seeded --seed + i (the random "
                     "score of normalised reports)");
  eval_cmd->add_flag("--monitor", eargs->monitor,
                     "Score each episode's novelty with the run's drift monitor (RUN/monitor.yaml, fitted first if "
                     "missing, as `rlforge monitor` does) and flag the episodes above its alarm threshold");
  add_plugin_option(*eval_cmd, eargs->plugins);
  eval_cmd->callback([&exit_code, eargs] { exit_code = run_reporting_errors([&] { return eval(*eargs); }); });
}

// A run directory's best checkpoint (else its last), or the checkpoint file itself.
std::string checkpoint_of(const std::string& target) {
  const fs::path p(target);
  if (fs::is_directory(p)) {
    for (const char* name : {"best.pt", "last.pt"}) {
      if (fs::exists(p / "checkpoints" / name)) return (p / "checkpoints" / name).string();
    }
    throw std::runtime_error(target + ": no checkpoints/best.pt or checkpoints/last.pt in this directory");
  }
  if (!fs::exists(p)) throw std::runtime_error(target + ": no such run directory or checkpoint");
  return target;
}

// Without a seed, the run's held-out test seeds (rlforge/envs/seeds.h).
LoadedAgent load_agent(const std::string& target, std::optional<uint64_t> seed) {
  LoadedAgent agent;
  agent.checkpoint = checkpoint_of(target);
  agent.info = read_checkpoint_info(agent.checkpoint);
  agent.config = parse_config(agent.info.config_yaml, agent.checkpoint + " (its config)");
  agent.seed = seed.value_or(seeds::test(agent.config.run.seed));
  set_compute_threads(agent.config.trainer.torch_threads);
  VectorEnvConfig probe = agent.config.env;
  probe.num_envs = 1;
  // A run on a table has no env; make_agent says it has no policy.
  const EnvSpec spec = probe.id.empty() ? EnvSpec{} : VectorEnv(probe).spec();
  agent.agent = make_agent(agent.config, spec, agent.seed, resolve_device(agent.config.run.device));
  load_checkpoint(agent.checkpoint, *agent.agent);
  return agent;
}

}  // namespace rlforge::cli
