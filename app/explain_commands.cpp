#include "explain_commands.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>

#include "cli_errors.h"
#include "env_commands.h"
#include "loaded_agent.h"
#include "rlforge/data/atomic_file.h"
#include "rlforge/envs/seeds.h"
#include "rlforge/evaluation/drift.h"
#include "rlforge/evaluation/explain.h"
#include "rlforge/evaluation/frame_saliency.h"
#include "rlforge/trainers/supervised_data.h"
#include "rlforge/agents/networks.h"
#include "rlforge/evaluation/model_card.h"
#include "rlforge/trainers/algorithm.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

struct ExplainArgs {
  std::string target;
  std::string out;
  std::vector<std::string> methods;
  std::string baseline = "mean";
  int ig_steps = 32;
  int64_t episodes = 0;  // 0: 10 for vector observations, 1 for images
  int64_t permutation_episodes = 20;
  int64_t frames = 500;  // images: frames explained per episode
  int64_t grid = 16;     // images: grid points per side
  std::string frame_baseline = "blurred";  // images: integrated gradients' baseline
  int64_t seed = -1;
  bool stochastic = false;
  std::vector<std::string> plugins;
};

// Per method of `target`: the three elements with the largest mean |attribution|, and the sanity
// correlations.
void print_top_elements(const ExplainReport& report, const std::string& target) {
  for (const Importance& imp : report.importances) {
    if (imp.target != target) continue;
    std::vector<std::size_t> order(imp.mean_abs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return imp.mean_abs[a] > imp.mean_abs[b]; });
    std::cout << std::left << std::setw(22) << imp.method << " top:";
    for (std::size_t k = 0; k < std::min<std::size_t>(3, order.size()); ++k) std::cout << " " << report.names[order[k]];
    std::cout << "  (rank correlation with random weights " << std::setprecision(3) << imp.randomization_correlation;
    if (!std::isnan(imp.label_randomization_correlation)) {
      std::cout << ", with permuted labels " << imp.label_randomization_correlation;
    }
    std::cout << ")\n";
  }
}

// Where the results go: --out, else RUN/explain (or ./explain beside a checkpoint file).
fs::path explain_out(const ExplainArgs& args) {
  return !args.out.empty()                 ? fs::path(args.out)
         : fs::is_directory(args.target)  ? fs::path(args.target) / "explain"
                                          : fs::path("explain");
}

// Image observations: perturbation saliency over a grid, and the first episode as a GIF.
int explain_frames_of(const ExplainArgs& args, LoadedAgent& loaded, Agent& randomized, const EnvSpec& spec) {
  FrameSaliencySettings settings;
  settings.episodes = args.episodes > 0 ? args.episodes : 1;
  settings.max_frames = args.frames;
  settings.grid = args.grid;
  settings.seed = args.seed >= 0 ? static_cast<uint64_t>(args.seed) : seeds::test(loaded.config.run.seed);
  settings.deterministic = !args.stochastic;
  // Integrated gradients runs unless --method names only other methods; its baseline: the blurred
  // frame unless --baseline says mean or zeros (given explicitly).
  settings.integrated_gradients =
      args.methods.empty() || std::find(args.methods.begin(), args.methods.end(), "integrated_gradients") != args.methods.end();
  settings.ig_baseline = args.frame_baseline;
  settings.ig_steps = args.ig_steps;
  const fs::path out = explain_out(args);
  fs::create_directories(out);
  std::cout << "explain: " << loaded.checkpoint << " (" << loaded.info.env_steps << " env steps) on " << spec.id
            << ", frames " << spec.observation_space.describe() << ", " << settings.episodes << " episode(s) from seed "
            << settings.seed << "; perturbation saliency on a " << settings.grid << "x" << settings.grid << " grid"
            << std::endl;
  const std::string gif = (out / "saliency.gif").string();
  const FrameSaliencyReport r = explain_frames(*loaded.agent, randomized, loaded.config.env, settings, gif);
  const std::vector<std::string> files = write_frame_saliency_report(r, out.string());
  std::cout << r.frames << " frames (mean return " << r.mean_return << "); the most salient quarter of the grid holds "
            << std::setprecision(3) << 100 * r.action_top_quarter_share
            << "% of the action saliency (random weights: " << 100 * r.random_action_top_quarter_share
            << "%); rank correlation with random weights: action "
            << r.action_randomization_correlation << ", value " << r.value_randomization_correlation << "\n";
  if (!r.mean_integrated_gradients.empty()) {
    std::cout << "integrated gradients from the " << r.ig_baseline << " frame: completeness error "
              << r.ig_completeness_error << " (relative), rank correlation with random weights "
              << r.ig_randomization_correlation << "\n";
  }
  std::cout << "results:";
  for (const std::string& f : files) std::cout << " " << f;
  std::cout << " " << gif << std::endl;
  return 0;
}

// A table predictor: attributions to the columns on the held-out test rows, sanity checks against
// a re-initialised predictor and one trained again on permuted labels, permutation importance.
int explain_table_of(const ExplainArgs& args) {
  const std::string checkpoint = checkpoint_of(args.target);
  const Checkpoint info = read_checkpoint_info(checkpoint);
  const ExperimentConfig config = parse_config(info.config_yaml, checkpoint + " (its config)");
  const std::string& task = config.supervised.task;
  if (config.algo != "supervised" || (task != "classification" && task != "regression")) {
    throw std::runtime_error(args.target + ": explain takes a policy acting in an env, or a supervised table predictor "
                             "(classification or regression); this run is " + config.algo + " " + task);
  }
  LoadedAgent loaded = load_table_model(checkpoint, info, config);
  const SupervisedData data = load_supervised_data(config);
  if (data.split.test.numel() < 2) throw std::runtime_error(args.target + ": the run has no test split to explain on");
  const bool classification = task == "classification";
  const torch::Tensor train = data.table_inputs.index_select(0, data.split.train);
  const torch::Tensor rows = data.table_inputs.index_select(0, data.split.test);
  const torch::Tensor truth = classification ? data.table_labels.index_select(0, data.split.test)
                                             : data.table_targets.index_select(0, data.split.test);
  const fs::path out = explain_out(args);
  fs::create_directories(out);

  // The model-randomisation check: the same predictor freshly initialised, inputs standardised alike.
  const int64_t outputs = classification ? data.classes : 1;
  std::unique_ptr<SupervisedModel> randomized =
      make_supervised_model(config, EnvSpec{}, data.input_size, outputs, config.run.seed + 7919, torch::kCPU);
  if (auto p = std::dynamic_pointer_cast<PredictorImpl>(randomized->module_ptr())) {
    p->set_input_statistics(train.mean(0), train.std(0, /*unbiased=*/false));
  }
  // The data-randomisation check: the run's config trained again on permuted training labels.
  const fs::path shuffled_dir = out / "permuted_labels";
  fs::remove_all(shuffled_dir);
  fs::create_directories(shuffled_dir);
  std::cout << "explain: training the data-randomisation check's model (the run's config, labels permuted) in "
            << shuffled_dir.string() << std::endl;
  {
    std::ofstream log(shuffled_dir / "train.log");
    const ExperimentConfig shuffled = parse_config(info.config_yaml, checkpoint + " (its config)", {"data.permute_labels=true"});
    Trainer(shuffled, shuffled_dir.string(), log).run();
  }
  LoadedAgent permuted = load_table_model((shuffled_dir / "checkpoints" / "best.pt").string(),
                                          read_checkpoint_info((shuffled_dir / "checkpoints" / "best.pt").string()), config);

  ExplainSettings settings;
  if (!args.methods.empty()) settings.methods = args.methods;
  settings.baseline = args.baseline;
  settings.ig_steps = args.ig_steps;
  settings.permutation_episodes = args.permutation_episodes;  // > 0: permutation importance
  settings.seed = args.seed >= 0 ? static_cast<uint64_t>(args.seed) : config.run.seed;
  const std::string table_id =
      (config.data.csv.empty() ? std::string("table") : fs::path(config.data.csv).filename().string()) + ":" + task;
  const ExplainReport report = explain_table(*loaded.agent, *randomized, permuted.agent.get(), rows, truth, classification,
                                             train.mean(0, /*keepdim=*/true), data.feature_names, table_id, settings);
  const std::vector<std::string> plots = write_explain_report(report, out.string());
  std::cout << report.states << " held-out rows; test " << report.score_name << " " << report.clean_mean_return
            << "; integrated gradients' completeness error " << report.ig_completeness_error << " (relative)\n";
  print_top_elements(report, "prediction");
  std::cout << "results: " << (out / "explain.yaml").string() << ", " << plots.size() << " plots" << std::endl;
  return 0;
}

int explain(const ExplainArgs& args) {
  load_plugins(args.plugins);
  {
    const std::string checkpoint = checkpoint_of(args.target);
    if (parse_config(read_checkpoint_info(checkpoint).config_yaml, checkpoint + " (its config)").env.id.empty()) {
      return explain_table_of(args);
    }
  }
  LoadedAgent loaded = load_agent(args.target, std::nullopt);
  const EnvSpec spec = make_configured_env(loaded.config.env)->spec();
  // The sanity check's network: the same architecture, freshly initialised from another seed.
  const std::unique_ptr<Agent> randomized =
      make_agent(loaded.config, spec, loaded.config.run.seed + 7919, loaded.agent->device());
  if (image_layout(spec.observation_space)) return explain_frames_of(args, loaded, *randomized, spec);

  ExplainSettings settings;
  if (!args.methods.empty()) settings.methods = args.methods;
  settings.baseline = args.baseline;
  settings.ig_steps = args.ig_steps;
  settings.episodes = args.episodes > 0 ? args.episodes : 10;
  settings.permutation_episodes = args.permutation_episodes;
  // Held-out seeds: the run's test range unless --seed.
  settings.seed = args.seed >= 0 ? static_cast<uint64_t>(args.seed) : seeds::test(loaded.config.run.seed);
  settings.deterministic = !args.stochastic;
  std::cout << "explain: " << loaded.checkpoint << " (" << loaded.info.env_steps << " env steps) on " << spec.id << ", "
            << settings.episodes << " episodes from seed " << settings.seed << std::endl;
  const ExplainReport report = explain_policy(*loaded.agent, *randomized, loaded.config.env, settings);
  const fs::path out = explain_out(args);
  const std::vector<std::string> plots = write_explain_report(report, out.string());

  std::cout << report.states << " states; integrated gradients' completeness error "
            << report.ig_completeness_error << " (relative)\n";
  print_top_elements(report, "action");
  if (!report.permutation_drop.empty()) {
    std::cout << "permutation importance (return lost):";
    for (std::size_t i = 0; i < report.permutation_drop.size(); ++i) {
      std::cout << " " << report.names[i] << " " << std::setprecision(4) << report.permutation_drop[i].point;
    }
    std::cout << "\n";
  }
  std::cout << "results: " << (out / "explain.yaml").string() << ", " << plots.size() << " plots" << std::endl;
  return 0;
}

struct MonitorArgs {
  std::string target;
  int64_t fit_episodes = kMonitorFitEpisodes, episodes = 100;
  std::vector<std::string> env_options;  // the shift to check, KEY=VALUE
  double noise = 0;                      // observation noise to check, in the monitor's stds
  bool refit = false;
};

// Scores held-out episodes as they are and under the given shift against RUN/monitor.yaml.
int monitor(const MonitorArgs& args) {
  LoadedAgent loaded = load_agent(args.target, std::nullopt);
  const DriftMonitor m = run_drift_monitor(args.target, loaded, args.refit, args.fit_episodes, std::cout);
  const uint64_t run_seed = loaded.config.run.seed;
  std::vector<double> clean;
  for (const auto& e : monitored_episodes(*loaded.agent, loaded.config.env, args.episodes, seeds::test(run_seed))) {
    clean.push_back(m.novelty(e));
  }
  std::cout << "held-out episodes: " << clean.size() << ", alarms " << 100 * alarm_rate(m, clean) << "%" << std::endl;
  if (args.env_options.empty() && args.noise <= 0) return 0;
  VectorEnvConfig shifted = loaded.config.env;
  std::string what;
  for (const std::string& option : args.env_options) {
    const auto [name, value] = Options::parse_assignment(option);
    shifted.options.set(name, value);
    what += (what.empty() ? "" : ", ") + option;
  }
  if (args.noise > 0) {
    std::string scale;
    for (const double s : m.std) scale += (scale.empty() ? "" : ",") + std::to_string(s);
    shifted.wrappers.push_back({"ObservationNoise", Options{{"std", args.noise}, {"scale", scale}}});
    what += (what.empty() ? "" : ", ") + std::string("observation noise ") + std::to_string(args.noise) + " std";
  }
  std::vector<double> drifted;
  for (const auto& e : monitored_episodes(*loaded.agent, shifted, args.episodes, seeds::stress(run_seed))) {
    drifted.push_back(m.novelty(e));
  }
  std::cout << "shifted episodes (" << what << "): " << drifted.size() << ", alarms " << 100 * alarm_rate(m, drifted)
            << "%\n"
            << "AUROC (shifted against held-out): " << auroc(clean, drifted) << std::endl;
  return 0;
}

}  // namespace

fs::path run_monitor_file(const std::string& target) {
  const fs::path run_dir =
      fs::is_directory(target) ? fs::path(target) : fs::path(target).parent_path().parent_path();  // RUN/checkpoints/X.pt
  return run_dir / "monitor.yaml";
}

DriftMonitor run_drift_monitor(const std::string& target, LoadedAgent& loaded, bool refit, int64_t fit_episodes,
                               std::ostream& log) {
  if (loaded.config.env.id.empty()) throw std::runtime_error(target + ": the run learned from a table; no env to watch");
  const EnvSpec spec = make_configured_env(loaded.config.env)->spec();
  std::string why;
  if (!drift_monitor_applies(spec, &why)) throw std::runtime_error(why);
  const fs::path file = run_monitor_file(target);
  const uint64_t run_seed = loaded.config.run.seed;
  if (fs::exists(file) && !refit) {
    DriftMonitor m = DriftMonitor::load(file.string());
    if (m.env_id != spec.id || m.mean.size() != spec.observation_space.size()) {
      throw std::runtime_error(file.string() + ": a monitor of " + m.env_id + ", but the run acts in " + spec.id +
                               "; fit it again with rlforge monitor RUN --refit");
    }
    log << "monitor: " << file.string() << " (fitted on " << m.fit_episodes << " episodes, alarm above "
        << m.threshold << ")" << std::endl;
    return m;
  }
  const DriftMonitor m = fit_drift_monitor(*loaded.agent, loaded.config.env, fit_episodes, seeds::training(run_seed),
                                           fit_episodes, seeds::validation(run_seed));
  write_data_file_atomically(file.string(), m.yaml());
  log << "monitor: fitted on " << m.fit_episodes << " episodes (training seeds; " << m.regimes.size()
      << " transition models), alarm threshold " << m.threshold << " (95th percentile of " << m.calibration_episodes
      << " validation episodes), " << file.string() << std::endl;
  return m;
}

void add_explain_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExplainArgs>();
  auto* cmd = app.add_subcommand(
      "explain", "Attribute a trained policy's decisions to its observation elements: saliency, gradient x input, "
                 "integrated gradients, occlusion, permutation importance, with sanity checks; for image observations, "
                 "perturbation saliency over the picture and a GIF of an episode");
  cmd->add_option("RUN", args->target, "Run directory (its best checkpoint) or checkpoint file")->required();
  cmd->add_option("--method", args->methods,
                  "saliency, gradient_x_input, integrated_gradients or occlusion (repeatable; default: all four)")
      ->check(CLI::IsMember({"saliency", "gradient_x_input", "integrated_gradients", "occlusion"}));
  cmd->add_option("--baseline", args->baseline, "Integrated gradients' and occlusion's baseline: mean (of the visited "
                                                "states) or zeros")
      ->capture_default_str()
      ->check(CLI::IsMember({"mean", "zeros"}));
  cmd->add_option("--ig-steps", args->ig_steps, "Integrated gradients' steps")->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_option("--episodes", args->episodes, "Episodes whose states are explained (default: 10; images: 1)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--frames", args->frames, "Images: frames explained per episode (from its start)")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--grid", args->grid, "Images: grid points per side where the picture is blurred")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{256}));
  cmd->add_option("--frame-baseline", args->frame_baseline,
                  "Images: integrated gradients' baseline: blurred (the frame heavily blurred), zeros or mean (the episode's mean frame)")
      ->capture_default_str()
      ->check(CLI::IsMember({"blurred", "zeros", "mean"}));
  cmd->add_option("--permutation-episodes", args->permutation_episodes,
                  "Episodes per element for permutation importance (0: skip it)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{100000}));
  cmd->add_option("--out", args->out, "Where the results go (default: RUN/explain)");
  cmd->add_option("--seed", args->seed, "First seed of the episodes (default: the run's held-out test seeds)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--stochastic", args->stochastic, "Sample actions instead of taking the most likely");
  add_plugin_option(*cmd, args->plugins);
  cmd->callback([&exit_code, args] { exit_code = run_reporting_errors([&] { return explain(*args); }); });

  auto margs = std::make_shared<MonitorArgs>();
  auto* mon = app.add_subcommand("monitor", "Fit a drift monitor on a run's policy (RUN/monitor.yaml) and check "
                                            "held-out episodes, and episodes under a shift, against it");
  mon->add_option("RUN", margs->target, "Run directory (its best checkpoint) or checkpoint file")->required();
  mon->add_option("--fit-episodes", margs->fit_episodes, "Episodes to fit on, and as many to set the alarm")
      ->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{100000}));
  mon->add_option("--episodes", margs->episodes, "Episodes to check, held-out and shifted each")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{100000}));
  mon->add_option("--env-option", margs->env_options, "A shift to check: KEY=VALUE (repeatable)");
  mon->add_option("--noise", margs->noise, "Observation noise to check, in the monitor's per-element stds")
      ->check(CLI::NonNegativeNumber);
  mon->add_flag("--refit", margs->refit, "Fit again even when RUN/monitor.yaml exists");
  mon->callback([&exit_code, margs] { exit_code = run_reporting_errors([&] { return monitor(*margs); }); });

  auto run_dir = std::make_shared<std::string>();
  auto* card = app.add_subcommand("card", "Write RUN/MODEL_CARD.md again from the run's files (after stress or explain)");
  card->add_option("RUN", *run_dir, "Run directory")->required()->check(CLI::ExistingDirectory);
  card->callback([&exit_code, run_dir] {
    exit_code = run_reporting_errors([&] {
      std::cout << "model card: " << write_model_card(*run_dir) << std::endl;
      return 0;
    });
  });
}

}  // namespace rlforge::cli
