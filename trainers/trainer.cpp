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

#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/compute_threads.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/learner.h"
#include "rlforge/trainers/learning_curve.h"
#include "rlforge/trainers/progress.h"
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
  for (const char* section : {"env", "data", "agent"}) {
    if (!run_config[section].IsDefined() && !new_config[section].IsDefined()) continue;
    // Env threads do not change results (the vector env is bit-identical for any count).
    YAML::Node old_section = YAML::Clone(run_config[section]), new_section = YAML::Clone(new_config[section]);
    if (old_section.IsMap()) old_section.remove("threads");
    if (new_section.IsMap()) new_section.remove("threads");
    // Compared as text after a round trip through text, as the run's config.yaml made one (an
    // empty list built in memory is emitted in another style than one read back).
    auto canonical = [](const YAML::Node& node) {
      YAML::Emitter first;
      first << node;
      YAML::Emitter second;
      second << YAML::Load(first.c_str());
      return std::string(second.c_str());
    };
    if (canonical(old_section) != canonical(new_section)) {
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
  int64_t next_eval = 0;
  int64_t next_record = 0;
  double elapsed_before = 0;  // wall seconds of earlier sessions of this run
  // The best evaluation so far (its values in eval.csv's order) and its score.
  std::optional<std::vector<double>> best;
  double best_score = NAN;
  int64_t best_steps = 0;
  // Early stopping: the score to beat by min_delta, and evaluations since it was last beaten.
  double patience_score = NAN;
  int64_t evaluations_without_improvement = 0;
  int world_size = 1;

  std::string to_yaml(double elapsed_now) const {
    YAML::Node n;
    if (world_size > 1) n["world_size"] = world_size;
    n["next_eval"] = next_eval;
    n["next_record"] = next_record;
    n["elapsed_seconds"] = elapsed_before + elapsed_now;
    if (best) {
      n["best"]["values"] = *best;
      n["best"]["score"] = best_score;
      n["best"]["steps"] = best_steps;
    }
    if (std::isfinite(patience_score)) n["patience"]["score"] = patience_score;
    n["patience"]["evaluations_without_improvement"] = evaluations_without_improvement;
    YAML::Emitter out;
    out.SetDoublePrecision(17);
    out << n;
    return out.c_str();
  }

  void from_yaml(const std::string& text) {
    const YAML::Node n = YAML::Load(text);
    next_eval = n["next_eval"].as<int64_t>();
    next_record = n["next_record"].as<int64_t>();
    world_size = n["world_size"] ? n["world_size"].as<int>() : 1;
    elapsed_before = n["elapsed_seconds"].as<double>();
    if (n["best"]) {
      best = n["best"]["values"].as<std::vector<double>>();
      best_score = n["best"]["score"].as<double>();
      best_steps = n["best"]["steps"].as<int64_t>();
    }
    if (n["patience"]["score"]) patience_score = n["patience"]["score"].as<double>();
    evaluations_without_improvement = n["patience"]["evaluations_without_improvement"].as<int64_t>();
  }
};

// An RL evaluation's figures from eval.csv's columns (the best one is kept as values only).
std::optional<EvaluationResult> episodes_of(const std::vector<Learner::Column>& columns,
                                            const std::vector<double>& values) {
  std::map<std::string, double> by_name;
  for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i) by_name[columns[i].name] = values[i];
  if (by_name.count("mean_return") == 0) return std::nullopt;
  EvaluationResult e;
  e.mean_return = by_name["mean_return"];
  e.std_return = by_name["std_return"];
  e.mean_length = by_name["mean_length"];
  e.episodes = static_cast<int64_t>(by_name["episodes"]);
  return e;
}

YAML::Node values_node(const std::vector<Learner::Column>& columns, const std::vector<double>& values) {
  YAML::Node n;
  for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i) {
    if (columns[i].name == "episodes") {
      n[columns[i].name] = static_cast<int64_t>(values[i]);
    } else {
      n[columns[i].name] = values[i];
    }
  }
  return n;
}

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
  const fs::path best_path = dir / "checkpoints" / "best.pt";
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
  const std::unique_ptr<Learner> learner = make_learner(rank_config, device, distributed);
  Agent& agent = learner->agent();
  const std::string unit = learner->step_unit();
  const std::vector<Learner::Column> columns = learner->metric_columns();
  const std::vector<Learner::Column> eval_columns = learner->eval_columns();
  // Best-model selection and early stopping compare one evaluation column.
  auto [score_name, lower_is_better] = learner->score_column();
  if (!c.trainer.select_metric.empty()) {
    score_name = c.trainer.select_metric;
    lower_is_better = metric_lower_is_better(score_name);
  }
  std::size_t score_index = eval_columns.size();
  for (std::size_t i = 0; i < eval_columns.size(); ++i) {
    if (eval_columns[i].name == score_name) score_index = i;
  }
  if (score_index == eval_columns.size()) {
    std::vector<std::string> names;
    for (const auto& col : eval_columns) names.push_back(col.name);
    throw ConfigError(c.source + ": trainer.select_metric: '" + score_name + "' is not evaluated by this run; expected one of " +
                      join_names(names));
  }

  LoopState loop;
  loop.world_size = world_size;
  loop.next_eval = c.trainer.eval_every > 0 ? c.trainer.eval_every : c.trainer.total_steps + 1;
  const bool recording = c.trainer.record_every > 0 && lead && learner->can_record();
  loop.next_record = c.trainer.record_every > 0 ? c.trainer.record_every : c.trainer.total_steps + 1;
  if (control.resume) {
    std::vector<std::string> names{"loop"};
    for (const std::string& name : learner->state_names()) names.push_back(name);
    const Checkpoint info = load_checkpoint(last.string(), agent, names);
    learner->restore_state(info.extras, info.env_steps, (dir / "checkpoints").string(), lines);
    loop.from_yaml(tensor_text(info.extras.at("loop")));
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
                                 last.filename().string() + " is at " + std::to_string(info.env_steps) + " " + unit + ")");
      }
    }
    loop.world_size = world_size;
    if (lead) {
      truncate_log(dir / "metrics.csv", info.env_steps);
      truncate_log(dir / "eval.csv", info.env_steps);
    }
    lines << "resuming " << run_dir_ << " at " << info.env_steps << " " << unit << std::endl;  // before the bar
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
    metrics << unit;
    for (const auto& column : columns) metrics << "," << column.name;
    metrics << "\n";
    evals << unit;
    for (const auto& column : eval_columns) evals << "," << column.name;
    evals << "\n";
  }
  std::optional<TensorBoardWriter> tensorboard_writer;
  if (lead) tensorboard_writer.emplace(dir.string());
  auto add_scalar = [&](const std::string& tag, double value, int64_t steps) {
    if (tensorboard_writer && !tag.empty() && std::isfinite(value)) tensorboard_writer->add_scalar(tag, value, steps);
  };

  TrainResult result;
  result.run_dir = run_dir_;
  if (loop.best) {
    result.best_eval = episodes_of(eval_columns, *loop.best);
    result.best_eval_steps = loop.best_steps;
  }
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return loop.elapsed_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const int64_t first_steps = learner->steps();
  int64_t last_checkpoint_steps = first_steps;
  const std::string headline_name = learner->headline().first;
  ProgressReporter progress(lines, control.terminal && lead, c.trainer.total_steps, c.trainer.log_every, first_steps,
                            unit == "env_steps" ? "steps" : unit + "s", headline_name);

  // Evaluates, logs, keeps best.pt, and counts evaluations without improvement for early stopping.
  std::vector<double> final_values;
  int64_t last_evaluated = -1;
  auto evaluate = [&](int64_t steps, bool final) {
    last_evaluated = steps;
    const Learner::Evaluation e = learner->evaluate(final);
    evals << steps;
    for (const double v : e.values) evals << "," << v;
    evals << std::endl;
    const double score = lower_is_better ? -e.values[score_index] : e.values[score_index];
    if (!loop.best || score > loop.best_score) {
      loop.best = e.values;
      loop.best_score = score;
      loop.best_steps = steps;
      result.best_eval = e.episodes;
      result.best_eval_steps = steps;
      save_checkpoint(best_path.string(), agent, {steps, resolved.c_str(), {}});
    }
    if (!std::isfinite(loop.patience_score) || score > loop.patience_score + c.trainer.early_stopping_min_delta) {
      loop.patience_score = score;
      loop.evaluations_without_improvement = 0;
    } else {
      ++loop.evaluations_without_improvement;
    }
    for (std::size_t i = 0; i < eval_columns.size(); ++i) add_scalar(eval_columns[i].tag, e.values[i], steps);
    if (tensorboard_writer) tensorboard_writer->flush();
    progress.message(unit == "env_steps" ? "eval at " + std::to_string(steps) + " steps: " + e.text
                                         : "eval at " + unit + " " + std::to_string(steps) + ": " + e.text);
    final_values = e.values;
    if (e.episodes) result.final_eval = *e.episodes;
  };

  double checkpoint_seconds = 0;
  const std::string curve_title =
      (c.env.id.empty() ? c.run.name : c.env.id) + ", " + c.algo + (c.run.name.empty() ? "" : " (" + c.run.name + ")");
  auto write_curve = [&] { write_learning_curve(run_dir_, learner->curve(curve_title)); };
  auto record = [&](const std::string& name) {
    fs::create_directories(dir / "videos");
    progress.message(learner->record((dir / "videos" / (name + ".gif")).string()));
  };

  // Test hook for the distributed tests: RLFORGE_TEST_RANK_EXIT=K:N makes rank K exit at once
  // (status 3) after its N-th update, as a crashed rank would.
  int64_t exit_after_updates = -1, updates = 0;
  if (const char* hook = std::getenv("RLFORGE_TEST_RANK_EXIT"); hook != nullptr && distributed != nullptr) {
    const std::string h = hook;
    if (h.find(':') != std::string::npos && std::stoi(h.substr(0, h.find(':'))) == rank) {
      exit_after_updates = std::stoll(h.substr(h.find(':') + 1));
    }
  }
  const int64_t patience = c.trainer.early_stopping_patience;
  while (learner->steps() < c.trainer.total_steps) {
    if (exit_after_updates >= 0 && updates++ >= exit_after_updates) std::_Exit(3);
    try {
      learner->iterate();
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("at " + unit + " " + std::to_string(learner->steps()) + ": " + e.what() +
                               "; the last good checkpoint is " + last.string());
    }
    const int64_t steps = learner->steps();
    const double wall = elapsed();
    const double rate = static_cast<double>(steps - first_steps) / std::max(1e-9, wall - loop.elapsed_before);
    const std::vector<double> values = learner->metric_values();
    metrics << steps;
    for (const double v : values) metrics << "," << v;
    metrics << "\n";
    for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i) add_scalar(columns[i].tag, values[i], steps);
    add_scalar(unit == "env_steps" ? "time/steps_per_second" : "time/" + unit + "s_per_second", rate, steps);
    progress.update(steps, rate, learner->headline().second);
    if (steps >= loop.next_eval && steps < c.trainer.total_steps) {
      if (lead) evaluate(steps, false);
      while (loop.next_eval <= steps) loop.next_eval += c.trainer.eval_every;
    }
    if (steps >= loop.next_record && steps < c.trainer.total_steps) {
      if (recording) record("step_" + std::to_string(steps));
      while (loop.next_record <= steps) loop.next_record += c.trainer.record_every;
    }
    bool stop = (control.stop_after_steps > 0 && steps >= control.stop_after_steps) ||
                (control.stop_requested != nullptr && control.stop_requested->load());
    // Early stopping ends the run as if it had reached total_steps (final evaluation, summary).
    bool patience_spent = patience > 0 && loop.evaluations_without_improvement >= patience;
    if (distributed != nullptr) {
      // All ranks stop after the same update (Ctrl-C reaches them at different moments; only
      // the first rank evaluates).
      torch::Tensor flags = torch::tensor({stop ? 1.0 : 0.0, patience_spent ? 1.0 : 0.0}, torch::kFloat64);
      distributed->allreduce_sum(flags);
      stop = flags[0].item<double>() > 0;
      patience_spent = flags[1].item<double>() > 0;
    }
    // The checkpoint comes last: everything logged so far belongs to it.
    metrics.flush();
    const int64_t every = c.trainer.checkpoint_every;
    if (stop || patience_spent || steps >= c.trainer.total_steps || steps / every != last_checkpoint_steps / every) {
      const auto checkpoint_start = std::chrono::steady_clock::now();
      Checkpoint info{steps, resolved.c_str(), {}};
      learner->save_state(info.extras, (dir / "checkpoints").string());
      info.extras["loop"] = text_tensor(loop.to_yaml(wall - loop.elapsed_before));
      save_checkpoint(last.string(), agent, info);
      last_checkpoint_steps = steps;
      checkpoint_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - checkpoint_start).count();
    }
    if (stop && steps < c.trainer.total_steps) {
      if (lead) write_curve();
      progress.message("stopped at " + std::to_string(steps) + " " + unit + "; continue with --resume " + run_dir_);
      result.stopped = true;
      result.env_steps = steps;
      result.wall_seconds = elapsed();
      return result;
    }
    if (patience_spent) {
      progress.message("early stopping at " + (unit == "env_steps" ? std::to_string(steps) + " env steps" : unit + " " + std::to_string(steps)) +
                       ": " + score_name + " has not improved by " +
                       std::to_string(c.trainer.early_stopping_min_delta) + " in " + std::to_string(patience) +
                       " evaluations (best at " + std::to_string(loop.best_steps) + ")");
      result.early_stopped = true;
      break;
    }
  }
  metrics.flush();
  if (tensorboard_writer) tensorboard_writer->flush();
  progress.finish();
  result.env_steps = learner->steps();
  if (!lead) {
    result.wall_seconds = elapsed();
    return result;
  }
  // Early stopping comes after an evaluation: that one is the final one.
  if (last_evaluated != result.env_steps) evaluate(result.env_steps, true);
  if (recording) record("final");
  YAML::Node summary;
  summary[unit] = result.env_steps;
  if (result.early_stopped) summary["early_stopped"] = true;
  // Evaluations of the best checkpoint on held-out data (a supervised run's test split).
  learner->finish(summary, best_path.string(), lines);
  result.wall_seconds = elapsed();
  write_curve();

  summary["wall_seconds"] = result.wall_seconds;
  summary["steps_per_second"] = static_cast<double>(result.env_steps) / result.wall_seconds;
  summary["final_eval"] = values_node(eval_columns, final_values);
  YAML::Node best = values_node(eval_columns, *loop.best);
  best[unit] = loop.best_steps;
  summary["best_eval"] = best;
  summary["select_metric"] = score_name;
  for (std::size_t i = 0; i < eval_columns.size(); ++i) result.final_metrics.emplace_back(eval_columns[i].name, final_values[i]);
  // Where this session's time went (a resumed run counts from its resume).
  for (const auto& [part, seconds] : learner->time_seconds()) summary["time_seconds"][part] = seconds;
  summary["time_seconds"]["checkpoints"] = checkpoint_seconds;
  YAML::Emitter out;
  out << summary;
  write_file_atomically((dir / "summary.yaml").string(), std::string(out.c_str()) + "\n");
  return result;
}

}  // namespace rlforge
