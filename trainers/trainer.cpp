#include "rlforge/trainers/trainer.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "rlforge/trainers/compute_threads.h"
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

namespace {

torch::Tensor text_tensor(const std::string& text) {
  return torch::from_blob(const_cast<char*>(text.data()), {static_cast<int64_t>(text.size())}, torch::kUInt8).clone();
}

std::string tensor_text(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU).contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<std::size_t>(c.numel()));
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  std::ostringstream os;
  os << s / 3600 << ":" << std::setw(2) << std::setfill('0') << (s / 60) % 60 << ":" << std::setw(2)
     << std::setfill('0') << s % 60;
  return os.str();
}

YAML::Node eval_node(const EvaluationResult& e) {
  YAML::Node n;
  n["mean_return"] = e.mean_return;
  n["std_return"] = e.std_return;
  n["mean_length"] = e.mean_length;
  n["episodes"] = e.episodes;
  return n;
}

}  // namespace

void save_checkpoint(const std::string& path, Ppo& ppo, const Checkpoint& info) {
  torch::serialize::OutputArchive root, model, optimizer;
  ppo.policy()->save(model);
  ppo.optimizer().save(optimizer);
  root.write("model", model);
  root.write("optimizer", optimizer);
  root.write("env_steps", torch::tensor(info.env_steps));
  root.write("config", text_tensor(info.config_yaml));
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

Checkpoint read_checkpoint_info(const std::string& path) {
  torch::serialize::InputArchive archive = open_checkpoint(path);
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

void load_checkpoint(const std::string& path, Ppo& ppo) {
  torch::serialize::InputArchive archive = open_checkpoint(path);
  try {
    torch::serialize::InputArchive model, optimizer;
    archive.read("model", model);
    archive.read("optimizer", optimizer);
    ppo.policy()->load(model);
    ppo.optimizer().load(optimizer);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    what = what.substr(0, what.find('\n'));
    throw std::runtime_error(path + ": the checkpoint does not fit this config's agent (" + what + ")");
  }
}

Trainer::Trainer(ExperimentConfig config, std::string run_dir, std::ostream& progress)
    : config_(std::move(config)), run_dir_(std::move(run_dir)), progress_(progress) {}

TrainResult Trainer::run() {
  const ExperimentConfig& c = config_;
  set_compute_threads(c.trainer.torch_threads);
  const torch::Device device = resolve_device(c.run.device);
  const fs::path dir(run_dir_);
  fs::create_directories(dir / "checkpoints");
  YAML::Emitter resolved;
  resolved << c.resolved;
  write_file_atomically((dir / "config.yaml").string(), std::string(resolved.c_str()) + "\n");

  VectorEnv venv(c.env);
  venv.reset(c.run.seed);
  Ppo ppo(venv.spec(), c.ppo, c.run.seed, device);
  RolloutCollector collector(venv, c.ppo.gamma);
  RolloutBuffer buffer(RolloutCollector::buffer_config(venv, c.ppo.n_steps));
  VectorEnvConfig eval_env = c.env;
  eval_env.num_envs = static_cast<int>(std::min<int64_t>(c.trainer.eval_episodes, 8));
  eval_env.threads = 1;
  // Evaluation seeds are far from the training seeds (env i trains on seed + i).
  const uint64_t eval_seed = c.run.seed + 1'000'000;

  std::ofstream metrics((dir / "metrics.csv").string());
  metrics << "env_steps,wall_seconds,steps_per_second,episodes,mean_return,mean_length,policy_loss,"
             "value_loss,entropy,approx_kl,clip_fraction,explained_variance,learning_rate,clip_range\n";
  TensorBoardWriter tensorboard(dir.string());
  std::ofstream evals((dir / "eval.csv").string());
  evals << "env_steps,wall_seconds,mean_return,std_return,mean_length,episodes\n";

  TrainResult result;
  result.run_dir = run_dir_;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::deque<EpisodeSummary> recent;  // the last 100 finished episodes
  int64_t next_eval = c.trainer.eval_every > 0 ? c.trainer.eval_every : c.trainer.total_steps + 1;
  int64_t next_log = c.trainer.log_every;
  int64_t episodes = 0;

  auto evaluate = [&](int64_t steps) {
    const EvaluationResult e = evaluate_policy(ppo.policy(), eval_env, c.trainer.eval_episodes, eval_seed,
                                               c.trainer.eval_deterministic, ppo.generator());
    evals << steps << "," << elapsed() << "," << e.mean_return << "," << e.std_return << "," << e.mean_length
          << "," << e.episodes << std::endl;
    if (!result.best_eval || e.mean_return > result.best_eval->mean_return) {
      result.best_eval = e;
      result.best_eval_steps = steps;
      save_checkpoint((dir / "checkpoints" / "best.pt").string(), ppo, {steps, resolved.c_str()});
    }
    tensorboard.add_scalar("eval/mean_return", e.mean_return, steps);
    tensorboard.add_scalar("eval/std_return", e.std_return, steps);
    tensorboard.add_scalar("eval/mean_length", e.mean_length, steps);
    tensorboard.flush();
    progress_ << "eval at " << steps << " steps: mean_return " << e.mean_return << " +- " << e.std_return
              << " (" << e.episodes << " episodes)" << std::endl;
    return e;
  };

  while (collector.env_steps() < c.trainer.total_steps) {
    collector.collect(ppo.policy(), ppo.generator(), buffer, c.ppo.gae_lambda);
    const int64_t steps = collector.env_steps();
    const double progress_remaining =
        std::max(0.0, 1.0 - static_cast<double>(steps) / static_cast<double>(c.trainer.total_steps));
    PpoMetrics m;
    try {
      m = ppo.update({buffer.observations(), buffer.actions(), buffer.log_probs(), buffer.values(),
                      buffer.advantages(), buffer.returns()},
                     progress_remaining);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("at env step " + std::to_string(steps) + ": " + e.what() +
                               "; the last good checkpoint is " + (dir / "checkpoints" / "last.pt").string());
    }
    for (const EpisodeSummary& ep : collector.take_finished_episodes()) {
      recent.push_back(ep);
      if (recent.size() > 100) recent.pop_front();
      ++episodes;
    }
    double mean_return = NAN, mean_length = NAN;
    if (!recent.empty()) {
      mean_return = mean_length = 0;
      for (const auto& ep : recent) {
        mean_return += ep.episode_return;
        mean_length += static_cast<double>(ep.length);
      }
      mean_return /= static_cast<double>(recent.size());
      mean_length /= static_cast<double>(recent.size());
    }
    const double wall = elapsed();
    metrics << steps << "," << wall << "," << static_cast<double>(steps) / wall << "," << episodes << ","
            << mean_return << "," << mean_length << "," << m.policy_loss << "," << m.value_loss << ","
            << m.entropy << "," << m.approx_kl << "," << m.clip_fraction << "," << m.explained_variance << ","
            << m.learning_rate << "," << m.clip_range << "\n";
    if (!recent.empty()) {
      tensorboard.add_scalar("rollout/episode_return", mean_return, steps);
      tensorboard.add_scalar("rollout/episode_length", mean_length, steps);
    }
    tensorboard.add_scalar("loss/policy", m.policy_loss, steps);
    tensorboard.add_scalar("loss/value", m.value_loss, steps);
    tensorboard.add_scalar("loss/entropy", m.entropy, steps);
    tensorboard.add_scalar("ppo/approx_kl", m.approx_kl, steps);
    tensorboard.add_scalar("ppo/clip_fraction", m.clip_fraction, steps);
    tensorboard.add_scalar("ppo/explained_variance", m.explained_variance, steps);
    tensorboard.add_scalar("schedule/learning_rate", m.learning_rate, steps);
    tensorboard.add_scalar("schedule/clip_range", m.clip_range, steps);
    tensorboard.add_scalar("time/steps_per_second", static_cast<double>(steps) / wall, steps);
    save_checkpoint((dir / "checkpoints" / "last.pt").string(), ppo, {steps, resolved.c_str()});
    if (steps >= next_log || steps >= c.trainer.total_steps) {
      const double rate = static_cast<double>(steps) / wall;
      progress_ << "steps " << steps << "/" << c.trainer.total_steps << "  " << static_cast<int64_t>(rate)
                << " steps/s  return " << mean_return << "  eta "
                << format_duration(static_cast<double>(c.trainer.total_steps - steps) / rate) << std::endl;
      while (next_log <= steps) next_log += c.trainer.log_every;
    }
    if (steps >= next_eval && steps < c.trainer.total_steps) {
      evaluate(steps);
      while (next_eval <= steps) next_eval += c.trainer.eval_every;
    }
  }
  metrics.flush();
  tensorboard.flush();
  result.env_steps = collector.env_steps();
  result.final_eval = evaluate(result.env_steps);
  result.wall_seconds = elapsed();

  YAML::Node summary;
  summary["env_steps"] = result.env_steps;
  summary["wall_seconds"] = result.wall_seconds;
  summary["steps_per_second"] = static_cast<double>(result.env_steps) / result.wall_seconds;
  summary["final_eval"] = eval_node(result.final_eval);
  YAML::Node best = eval_node(*result.best_eval);
  best["env_steps"] = result.best_eval_steps;
  summary["best_eval"] = best;
  YAML::Emitter out;
  out << summary;
  write_file_atomically((dir / "summary.yaml").string(), std::string(out.c_str()) + "\n");
  return result;
}

}  // namespace rlforge
