#include "rlforge/trainers/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "rlforge/render/image_files.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/compute_threads.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/learning_curve.h"
#include "rlforge/trainers/progress.h"
#include "rlforge/trainers/rollout_collector.h"
#include "rlforge/trainers/tensorboard.h"

namespace fs = std::filesystem;

namespace rlforge {

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw ConfigError("run.device: '" + name + "' asked for, but CUDA is not available here (no GPU, or "
                        "LibTorch built without CUDA); use cpu or auto");
    }
    try {
      return torch::Device(name);
    } catch (const c10::Error&) {
      throw ConfigError("run.device: '" + name + "' is not a device; expected cpu, cuda, cuda:N or auto");
    }
  }
  throw ConfigError("run.device: '" + name + "' is not a device; expected cpu, cuda, cuda:N or auto");
}

std::string make_run_dir(const std::string& out_dir, const std::string& name) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream stamp;
  stamp << std::put_time(&tm, "%Y%m%d-%H%M%S");
  fs::path dir = fs::path(out_dir) / (name + "-" + stamp.str());
  for (int k = 2; fs::exists(dir); ++k) dir = fs::path(out_dir) / (name + "-" + stamp.str() + "-" + std::to_string(k));
  std::error_code ec;
  fs::create_directories(dir / "checkpoints", ec);
  if (ec) throw std::runtime_error("cannot create the run directory " + dir.string() + ": " + ec.message());
  return dir.string();
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot move " + tmp + " to " + path + ": " + ec.message());
}

torch::Tensor text_tensor(const std::string& text) {
  return torch::from_blob(const_cast<char*>(text.data()), {static_cast<int64_t>(text.size())}, torch::kUInt8).clone();
}

std::string tensor_text(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU).contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<std::size_t>(c.numel()));
}

namespace {


YAML::Node eval_node(const EvaluationResult& e) {
  YAML::Node n;
  n["mean_return"] = e.mean_return;
  n["std_return"] = e.std_return;
  n["mean_length"] = e.mean_length;
  n["episodes"] = e.episodes;
  return n;
}

}  // namespace

void save_checkpoint(const std::string& path, Agent& agent, const Checkpoint& info) {
  torch::serialize::OutputArchive root, model, optimizer;
  agent.save(model, optimizer);
  root.write("model", model);
  root.write("optimizer", optimizer);
  root.write("env_steps", torch::tensor(info.env_steps));
  root.write("config", text_tensor(info.config_yaml));
  for (const auto& [name, tensor] : info.extras) root.write("extra." + name, tensor);
  const std::string tmp = path + ".tmp";
  root.save_to(tmp);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot move " + tmp + " to " + path + ": " + ec.message());
}

namespace {
torch::serialize::InputArchive open_checkpoint(const std::string& path) {
  if (!fs::exists(path)) throw std::runtime_error(path + ": no such checkpoint");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a readable rlforge checkpoint (corrupt or truncated)");
  }
  return archive;
}
}  // namespace

namespace {
Checkpoint read_info(torch::serialize::InputArchive& archive, const std::string& path) {
  Checkpoint info;
  try {
    torch::Tensor steps, config;
    archive.read("env_steps", steps);
    archive.read("config", config);
    info.env_steps = steps.item<int64_t>();
    info.config_yaml = tensor_text(config);
  } catch (const c10::Error&) {
    throw std::runtime_error(path + ": not an rlforge checkpoint (counters or config missing)");
  }
  return info;
}
}  // namespace

Checkpoint read_checkpoint_info(const std::string& path) {
  torch::serialize::InputArchive archive = open_checkpoint(path);
  return read_info(archive, path);
}

Checkpoint load_checkpoint(const std::string& path, Agent& agent, const std::vector<std::string>& extras) {
  torch::serialize::InputArchive archive = open_checkpoint(path);
  Checkpoint info = read_info(archive, path);
  try {
    torch::serialize::InputArchive model, optimizer;
    archive.read("model", model);
    archive.read("optimizer", optimizer);
    agent.load(model, optimizer);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    what = what.substr(0, what.find('\n'));
    throw std::runtime_error(path + ": the checkpoint does not fit this config's agent (" + what + ")");
  }
  for (const auto& name : extras) {
    torch::Tensor t;
    if (!archive.try_read("extra." + name, t)) {
      throw std::runtime_error(path + ": holds no '" + name + "' (a best.pt, or from an older rlforge?); resume needs last.pt");
    }
    info.extras[name] = t;
  }
  return info;
}

void check_resume_compatible(const YAML::Node& run_config, const YAML::Node& new_config, const std::string& run_dir) {
  for (const char* section : {"env", "agent"}) {
    // Env threads do not change results (the vector env is bit-identical for any count).
    YAML::Node old_section = YAML::Clone(run_config[section]), new_section = YAML::Clone(new_config[section]);
    old_section.remove("threads");
    new_section.remove("threads");
    YAML::Emitter a, b;
    a << old_section;
    b << new_section;
    if (std::string(a.c_str()) != b.c_str()) {
      throw ConfigError("cannot resume " + run_dir + ": the config's '" + section +
                        "' section differs from the run's (" + run_dir + "/config.yaml)");
    }
  }
  if (run_config["run"]["seed"].as<int64_t>() != new_config["run"]["seed"].as<int64_t>()) {
    throw ConfigError("cannot resume " + run_dir + ": run.seed differs from the run's");
  }
}

namespace {

// The trainer's own counters, kept in last.pt as YAML text.
struct LoopState {
  int64_t episodes = 0;
  int64_t next_eval = 0;
  int64_t next_record = 0;
  double elapsed_before = 0;  // wall seconds of earlier sessions of this run
  std::deque<EpisodeSummary> recent;
  std::optional<EvaluationResult> best;
  int64_t best_steps = 0;
  int world_size = 1;

  std::string to_yaml(double elapsed_now) const {
    YAML::Node n;
    if (world_size > 1) n["world_size"] = world_size;
    n["episodes"] = episodes;
    n["next_eval"] = next_eval;
    n["next_record"] = next_record;
    n["elapsed_seconds"] = elapsed_before + elapsed_now;
    YAML::Node r(YAML::NodeType::Sequence);
    for (const auto& e : recent) {
      YAML::Node item;
      item.push_back(e.episode_return);
      item.push_back(e.length);
      r.push_back(item);
    }
    n["recent"] = r;
    if (best) {
      n["best"]["mean_return"] = best->mean_return;
      n["best"]["std_return"] = best->std_return;
      n["best"]["mean_length"] = best->mean_length;
      n["best"]["episodes"] = best->episodes;
      n["best"]["env_steps"] = best_steps;
    }
    YAML::Emitter out;
    out.SetDoublePrecision(17);
    out << n;
    return out.c_str();
  }

  void from_yaml(const std::string& text) {
    const YAML::Node n = YAML::Load(text);
    episodes = n["episodes"].as<int64_t>();
    next_eval = n["next_eval"].as<int64_t>();
    next_record = n["next_record"] ? n["next_record"].as<int64_t>() : 0;
    world_size = n["world_size"] ? n["world_size"].as<int>() : 1;
    elapsed_before = n["elapsed_seconds"].as<double>();
    recent.clear();
    for (const auto& item : n["recent"]) recent.push_back({item[0].as<double>(), item[1].as<int64_t>()});
    if (n["best"]) {
      EvaluationResult e;
      e.mean_return = n["best"]["mean_return"].as<double>();
      e.std_return = n["best"]["std_return"].as<double>();
      e.mean_length = n["best"]["mean_length"].as<double>();
      e.episodes = n["best"]["episodes"].as<int64_t>();
      best = e;
      best_steps = n["best"]["env_steps"].as<int64_t>();
    }
  }
};

// Keeps the header and the rows of a CSV log up to `steps` (its first column): rows written
// after the checkpoint a run resumes from are dropped, so they are not counted twice.
void truncate_log(const fs::path& path, int64_t steps) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot resume: " + path.string() + " is missing");
  std::string text, line;
  std::getline(in, line);
  text = line + "\n";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const int64_t row_steps = std::stoll(line.substr(0, line.find(',')));
    if (row_steps <= steps && line.find(',') != std::string::npos) text += line + "\n";
  }
  in.close();
  write_file_atomically(path.string(), text);
}

}  // namespace

Trainer::Trainer(ExperimentConfig config, std::string run_dir, std::ostream& progress)
    : config_(std::move(config)), run_dir_(std::move(run_dir)), progress_(progress) {}

TrainResult Trainer::run(const RunControl& control) {
  const ExperimentConfig& c = config_;
  set_compute_threads(c.trainer.torch_threads);
  const torch::Device device = resolve_device(c.run.device);
  Distributed* const distributed =
      control.distributed != nullptr && control.distributed->active() ? control.distributed : nullptr;
  const int rank = distributed != nullptr ? distributed->rank() : 0;
  const int world_size = distributed != nullptr ? distributed->world_size() : 1;
  const bool lead = rank == 0;  // the rank that logs, evaluates and writes the run directory
  const fs::path dir(run_dir_);
  // Rank K > 0 keeps what only it knows (its envs' state and generator) in rank_K.pt.
  const fs::path last = dir / "checkpoints" / (lead ? "last.pt" : "rank_" + std::to_string(rank) + ".pt");
  fs::create_directories(dir / "checkpoints");
  YAML::Emitter resolved;
  resolved << c.resolved;
  if (control.resume) {
    if (!fs::exists(last)) throw std::runtime_error("cannot resume " + run_dir_ + ": no checkpoints/" + last.filename().string());
    check_resume_compatible(YAML::LoadFile((dir / "config.yaml").string()), c.resolved, run_dir_);
  }
  if (lead) write_file_atomically((dir / "config.yaml").string(), std::string(resolved.c_str()) + "\n");
  // Ranks other than the first print nothing.
  std::ostringstream silent;
  std::ostream& lines = lead ? progress_ : silent;

  // Rank K's envs are seeded far from rank 0's (env i of rank K: seed + K * 1,000,003 + i), so
  // that rank 0 trains exactly as a single process would.
  ExperimentConfig rank_config = c;
  rank_config.run.seed = c.run.seed + static_cast<uint64_t>(rank) * 1'000'003ULL;
  VectorEnv venv(c.env);
  venv.reset(rank_config.run.seed);
  const std::unique_ptr<Algorithm> algorithm = make_algorithm(rank_config, venv, device, distributed);
  Agent& agent = algorithm->agent();
  VectorEnvConfig eval_env = c.env;
  eval_env.num_envs = static_cast<int>(std::min<int64_t>(c.trainer.eval_episodes, 8));
  eval_env.threads = 1;
  // Evaluation seeds are far from the training seeds (env i trains on seed + i).
  const uint64_t eval_seed = c.run.seed + 1'000'000;

  LoopState loop;
  loop.world_size = world_size;
  loop.next_eval = c.trainer.eval_every > 0 ? c.trainer.eval_every : c.trainer.total_steps + 1;
  loop.next_record = c.trainer.record_every > 0 ? c.trainer.record_every : c.trainer.total_steps + 1;
  if (control.resume) {
    std::vector<std::string> names{"venv", "loop"};
    for (const std::string& name : algorithm->state_names()) names.push_back(name);
    const Checkpoint info = load_checkpoint(last.string(), agent, names);
    const auto& extras = info.extras;
    try {
      venv.restore(tensor_text(extras.at("venv")));
    } catch (const EnvError& e) {
      throw std::runtime_error(last.string() + ": " + e.what());
    }
    algorithm->restore_state(extras, info.env_steps, (dir / "checkpoints").string(), lines);
    loop.from_yaml(tensor_text(extras.at("loop")));
    if (loop.world_size != world_size) {
      throw std::runtime_error("cannot resume " + run_dir_ + ": it ran with " + std::to_string(loop.world_size) +
                               " process(es), this resume has " + std::to_string(world_size) +
                               "; resume with the same --nproc / WORLD_SIZE");
    }
    if (distributed != nullptr) {
      // Every rank must resume from the same update (a rank's file could be one checkpoint behind).
      torch::Tensor steps = torch::tensor({static_cast<double>(info.env_steps), 1.0}, torch::kFloat64);
      distributed->allreduce_sum(steps);
      if (steps[0].item<double>() != static_cast<double>(info.env_steps) * world_size) {
        throw std::runtime_error("cannot resume " + run_dir_ + ": the ranks' checkpoints are from different updates (" +
                                 last.filename().string() + " is at " + std::to_string(info.env_steps) + " env steps)");
      }
    }
    loop.world_size = world_size;
    if (lead) {
      truncate_log(dir / "metrics.csv", info.env_steps);
      truncate_log(dir / "eval.csv", info.env_steps);
    }
    lines << "resuming " << run_dir_ << " at " << info.env_steps << " env steps" << std::endl;  // before the bar
  }

  const auto mode = control.resume ? std::ios::app : std::ios::trunc;
  // Unopened on ranks other than the first: writes to them go nowhere.
  std::ofstream metrics, evals;
  if (lead) {
    metrics.open((dir / "metrics.csv").string(), mode);
    evals.open((dir / "eval.csv").string(), mode);
  }
  if (!control.resume && lead) {
    // No wall-clock columns: the same config and seed give the same file (timings are in
    // summary.yaml and TensorBoard).
    metrics << "env_steps,episodes,mean_return,mean_length";
    for (const auto& column : algorithm->metric_columns()) metrics << "," << column.name;
    metrics << "\n";
    evals << "env_steps,mean_return,std_return,mean_length,episodes\n";
  }
  std::optional<TensorBoardWriter> tensorboard_writer;
  if (lead) tensorboard_writer.emplace(dir.string());
  auto add_scalar = [&](const std::string& tag, double value, int64_t steps) {
    if (tensorboard_writer) tensorboard_writer->add_scalar(tag, value, steps);
  };

  TrainResult result;
  result.run_dir = run_dir_;
  result.best_eval = loop.best;
  result.best_eval_steps = loop.best_steps;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return loop.elapsed_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const int64_t first_steps = algorithm->env_steps();
  int64_t last_checkpoint_steps = first_steps;
  ProgressReporter progress(lines, control.terminal && lead, c.trainer.total_steps, c.trainer.log_every, first_steps);

  double eval_seconds = 0, checkpoint_seconds = 0;
  auto evaluate = [&](int64_t steps) {
    const auto eval_start = std::chrono::steady_clock::now();
    const EvaluationResult e = evaluate_agent(agent, eval_env, c.trainer.eval_episodes, eval_seed,
                                              c.trainer.eval_deterministic, agent.generator());
    evals << steps << "," << e.mean_return << "," << e.std_return << "," << e.mean_length << "," << e.episodes
          << std::endl;
    if (!result.best_eval || e.mean_return > result.best_eval->mean_return) {
      result.best_eval = e;
      result.best_eval_steps = steps;
      loop.best = e;
      loop.best_steps = steps;
      save_checkpoint((dir / "checkpoints" / "best.pt").string(), agent, {steps, resolved.c_str(), {}});
    }
    add_scalar("eval/mean_return", e.mean_return, steps);
    add_scalar("eval/std_return", e.std_return, steps);
    add_scalar("eval/mean_length", e.mean_length, steps);
    if (tensorboard_writer) tensorboard_writer->flush();
    std::ostringstream line;
    line << "eval at " << steps << " steps: mean_return " << e.mean_return << " +- " << e.std_return << " ("
         << e.episodes << " episodes)";
    progress.message(line.str());
    eval_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
    return e;
  };

  // Recordings: one evaluation episode (the evaluation seed, its own generator so that recording
  // leaves training's random numbers alone) into videos/, every record_every env steps.
  double record_seconds = 0;
  auto record = [&](const std::string& name) {
    const auto record_start = std::chrono::steady_clock::now();
    EpisodePlayer player(c.env);
    if (!player.env().can_render()) return;
    const RenderHints hints = player.env().render_hints();
    const int width = c.trainer.record_width > 0 ? c.trainer.record_width : hints.width;
    const int height = c.trainer.record_height > 0 ? c.trainer.record_height : hints.height;
    const double wanted_fps = c.trainer.record_fps > 0 ? c.trainer.record_fps : hints.fps;
    RecordingSettings settings;
    settings.seed = eval_seed;
    settings.width = width;
    settings.height = height;
    settings.frame_stride = std::max(1, static_cast<int>(std::lround(hints.fps / wanted_fps)));
    fs::create_directories(dir / "videos");
    const std::string path = (dir / "videos" / (name + ".gif")).string();
    const auto recorder = open_recorder(path, width, height, hints.fps / settings.frame_stride);
    torch::Generator generator = at::detail::createCPUGenerator(c.run.seed + 2'000'000);
    const RecordedEpisodes r = record_episodes(
        player, agent_actions(agent, player.spec(), c.trainer.eval_deterministic, generator), *recorder, settings);
    recorder->finish();
    progress.message("recorded " + path + " (return " + std::to_string(r.returns.front()) + ")");
    record_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - record_start).count();
  };
  const std::string curve_title = c.env.id + ", " + c.algo + " (" + c.run.name + ")";

  // Test hook for the distributed tests: RLFORGE_TEST_RANK_EXIT=K:N makes rank K exit at once
  // (status 3) after its N-th update, as a crashed rank would.
  int64_t exit_after_updates = -1, updates = 0;
  if (const char* hook = std::getenv("RLFORGE_TEST_RANK_EXIT"); hook != nullptr && distributed != nullptr) {
    const std::string h = hook;
    if (h.find(':') != std::string::npos && std::stoi(h.substr(0, h.find(':'))) == rank) {
      exit_after_updates = std::stoll(h.substr(h.find(':') + 1));
    }
  }
  const std::vector<Algorithm::Column> columns = algorithm->metric_columns();
  while (algorithm->env_steps() < c.trainer.total_steps) {
    if (exit_after_updates >= 0 && updates++ >= exit_after_updates) std::_Exit(3);
    try {
      algorithm->iterate();
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("at env step " + std::to_string(algorithm->env_steps()) + ": " + e.what() +
                               "; the last good checkpoint is " + last.string());
    }
    const int64_t steps = algorithm->env_steps();
    for (const EpisodeSummary& ep : algorithm->take_finished_episodes()) {
      loop.recent.push_back(ep);
      if (loop.recent.size() > 100) loop.recent.pop_front();
      ++loop.episodes;
    }
    double mean_return = NAN, mean_length = NAN;
    if (!loop.recent.empty()) {
      mean_return = mean_length = 0;
      for (const auto& ep : loop.recent) {
        mean_return += ep.episode_return;
        mean_length += static_cast<double>(ep.length);
      }
      mean_return /= static_cast<double>(loop.recent.size());
      mean_length /= static_cast<double>(loop.recent.size());
    }
    const double wall = elapsed();
    const double rate = static_cast<double>(steps - first_steps) / std::max(1e-9, wall - loop.elapsed_before);
    const std::vector<double> values = algorithm->metric_values();
    metrics << steps << "," << loop.episodes << "," << mean_return << "," << mean_length;
    for (const double v : values) metrics << "," << v;
    metrics << "\n";
    if (!loop.recent.empty()) {
      add_scalar("rollout/episode_return", mean_return, steps);
      add_scalar("rollout/episode_length", mean_length, steps);
    }
    for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i) {
      if (std::isfinite(values[i])) add_scalar(columns[i].tag, values[i], steps);
    }
    add_scalar("time/steps_per_second", rate, steps);
    progress.update(steps, rate, mean_return);
    if (steps >= loop.next_eval && steps < c.trainer.total_steps) {
      if (lead) evaluate(steps);
      while (loop.next_eval <= steps) loop.next_eval += c.trainer.eval_every;
    }
    if (steps >= loop.next_record && steps < c.trainer.total_steps) {
      if (lead) record("step_" + std::to_string(steps));
      while (loop.next_record <= steps) loop.next_record += c.trainer.record_every;
    }
    bool stop = (control.stop_after_steps > 0 && steps >= control.stop_after_steps) ||
                (control.stop_requested != nullptr && control.stop_requested->load());
    if (distributed != nullptr) {
      // All ranks stop after the same update (Ctrl-C reaches them at different moments).
      torch::Tensor any = torch::tensor({stop ? 1.0 : 0.0}, torch::kFloat64);
      distributed->allreduce_sum(any);
      stop = any.item<double>() > 0;
    }
    // The checkpoint comes last: everything logged so far belongs to it.
    metrics.flush();
    const int64_t every = c.trainer.checkpoint_every;
    if (stop || steps >= c.trainer.total_steps || steps / every != last_checkpoint_steps / every) {
      const auto checkpoint_start = std::chrono::steady_clock::now();
      Checkpoint info{steps, resolved.c_str(), {}};
      info.extras["venv"] = text_tensor(venv.snapshot());
      algorithm->save_state(info.extras, (dir / "checkpoints").string());
      info.extras["loop"] = text_tensor(loop.to_yaml(wall - loop.elapsed_before));
      save_checkpoint(last.string(), agent, info);
      last_checkpoint_steps = steps;
      checkpoint_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - checkpoint_start).count();
    }
    if (stop && steps < c.trainer.total_steps) {
      if (lead) write_learning_curve(run_dir_, curve_title);
      progress.message("stopped at " + std::to_string(steps) + " env steps; continue with --resume " + run_dir_);
      result.stopped = true;
      result.env_steps = steps;
      result.wall_seconds = elapsed();
      return result;
    }
  }
  metrics.flush();
  if (tensorboard_writer) tensorboard_writer->flush();
  progress.finish();
  result.env_steps = algorithm->env_steps();
  if (!lead) {
    result.wall_seconds = elapsed();
    return result;
  }
  result.final_eval = evaluate(result.env_steps);
  if (c.trainer.record_every > 0) record("final");
  result.wall_seconds = elapsed();
  write_learning_curve(run_dir_, curve_title);

  YAML::Node summary;
  summary["env_steps"] = result.env_steps;
  summary["wall_seconds"] = result.wall_seconds;
  summary["steps_per_second"] = static_cast<double>(result.env_steps) / result.wall_seconds;
  summary["final_eval"] = eval_node(result.final_eval);
  YAML::Node best = eval_node(*result.best_eval);
  best["env_steps"] = result.best_eval_steps;
  summary["best_eval"] = best;
  // Where this session's time went (a resumed run counts from its resume).
  for (const auto& [part, seconds] : algorithm->time_seconds()) summary["time_seconds"][part] = seconds;
  summary["time_seconds"]["evaluation"] = eval_seconds;
  summary["time_seconds"]["checkpoints"] = checkpoint_seconds;
  summary["time_seconds"]["recording"] = record_seconds;
  YAML::Emitter out;
  out << summary;
  write_file_atomically((dir / "summary.yaml").string(), std::string(out.c_str()) + "\n");
  return result;
}

}  // namespace rlforge
