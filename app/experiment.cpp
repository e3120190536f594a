#include "experiment.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "child_process.h"
#include "cli_errors.h"
#include "report_commands.h"
#include "run_results.h"
#include "rlforge/stats/bootstrap.h"
#include "rlforge/trainers/trainer.h"

namespace fs = std::filesystem;

namespace rlforge::cli {

namespace {

constexpr const char* kManifest = "experiment.yaml";

struct Manifest {
  std::string config_source;
  std::vector<std::string> overrides, plugins;
  std::vector<uint64_t> seeds;
};

fs::path run_dir_of(const fs::path& experiment, uint64_t seed) { return experiment / ("seed-" + std::to_string(seed)); }
fs::path log_of(const fs::path& experiment, uint64_t seed) {
  return experiment / "logs" / ("seed-" + std::to_string(seed) + ".log");
}

void write_manifest(const fs::path& dir, const Manifest& m) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "config_source" << YAML::Value << m.config_source << YAML::Key << "overrides"
      << YAML::Value << YAML::Flow << m.overrides << YAML::Key << "plugins" << YAML::Value << YAML::Flow << m.plugins
      << YAML::Key << "seeds" << YAML::Value << YAML::Flow << m.seeds << YAML::EndMap;
  write_file_atomically((dir / kManifest).string(), std::string(out.c_str()) + "\n");
}

Manifest read_manifest(const fs::path& dir) {
  const fs::path path = dir / kManifest;
  try {
    const YAML::Node n = YAML::LoadFile(path.string());
    Manifest m;
    m.config_source = n["config_source"].as<std::string>();
    m.overrides = n["overrides"].as<std::vector<std::string>>();
    m.plugins = n["plugins"].as<std::vector<std::string>>();
    m.seeds = n["seeds"].as<std::vector<uint64_t>>();
    if (m.seeds.empty()) throw std::runtime_error("no seeds");
    return m;
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": not an experiment manifest (expected config_source, overrides, "
                             "plugins and seeds): " + e.what());
  }
}

volatile sig_atomic_t received_signal = 0;
extern "C" void remember_stop(int sig) { received_signal = sig; }

// The last non-empty line of a seed's log (its latest progress line).
std::string last_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last.size() > 110 ? last.substr(0, 107) + "..." : last;
}

class Scheduler {
 public:
  Scheduler(fs::path dir, Manifest manifest, int jobs) : dir_(std::move(dir)), m_(std::move(manifest)), jobs_(jobs) {}

  int run() {
    fs::create_directories(dir_ / "logs");
    std::vector<uint64_t> queue;
    for (const uint64_t seed : m_.seeds) {
      if (is_finished_run(run_dir_of(dir_, seed))) {
        mark_finished(seed);
      } else {
        queue.push_back(seed);
      }
    }
    std::cout << "experiment: " << dir_.string() << " (" << m_.seeds.size() << " seeds, " << finished_.size()
              << " finished before, at most " << jobs_ << " at a time)" << std::endl;
    struct sigaction action {};
    action.sa_handler = remember_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    auto last_status = std::chrono::steady_clock::now();
    std::size_t next = 0;
    while (next < queue.size() || !running_.empty()) {
      if (received_signal != 0 && !stopping_) {
        stopping_ = true;  // each seed finishes its update, writes last.pt and stops
        for (const auto& [pid, seed] : running_) ::kill(pid, SIGINT);
        std::cout << "stopping: the running seeds write their checkpoints" << std::endl;
      }
      while (!stopping_ && next < queue.size() && static_cast<int>(running_.size()) < jobs_) start(queue[next++]);
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid > 0 && running_.count(pid) != 0) {
        const uint64_t seed = running_[pid];
        running_.erase(pid);
        ended(seed, status);
        continue;
      }
      if (pid < 0 && errno == ECHILD) break;
      if (stopping_ && running_.empty()) break;
      if (std::chrono::steady_clock::now() - last_status > std::chrono::seconds(60)) {
        last_status = std::chrono::steady_clock::now();
        for (const auto& [p, seed] : running_) {
          const std::string line = last_line(log_of(dir_, seed));
          if (!line.empty()) std::cout << "  seed " << seed << ": " << line << std::endl;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    if (stopping_ || finished_.size() + failed_.size() < m_.seeds.size()) {
      std::cout << "stopped with " << finished_.size() << " of " << m_.seeds.size()
                << " seeds finished; continue with rlforge train --resume " << dir_.string() << std::endl;
      return 130;
    }
    if (!failed_.empty()) {
      std::ostringstream seeds;
      for (const uint64_t seed : failed_) seeds << (seeds.tellp() > 0 ? ", " : "") << seed;
      print_error("experiment " + dir_.string() + ": seeds " + seeds.str() +
                  " failed (their logs are in logs/); rlforge train --resume " + dir_.string() + " retries them");
      return 1;
    }
    std::cout << "every seed finished; report of " << dir_.string() << ":" << std::endl;
    return report_experiment(dir_.string());
  }

 private:
  void start(uint64_t seed) {
    const fs::path run_dir = run_dir_of(dir_, seed);
    const std::string self = own_arguments().front();
    std::vector<std::string> args{self, "train"};
    const bool resume = fs::exists(run_dir / "checkpoints" / "last.pt");
    if (resume) {
      args.insert(args.end(), {"--resume", run_dir.string()});
    } else {
      std::error_code ec;
      fs::remove_all(run_dir, ec);  // a start that failed before its first checkpoint
      args.insert(args.end(), {(dir_ / "config.yaml").string(), "--set", "run.seed=" + std::to_string(seed),
                               "--run-dir", run_dir.string()});
    }
    for (const std::string& plugin : m_.plugins) args.insert(args.end(), {"--plugin", plugin});
    const pid_t pid = start_self(args, {}, log_of(dir_, seed).string());
    running_[pid] = seed;
    std::cout << (resume ? "resumed" : "started") << " seed " << seed << " (" << run_dir.string() << ", log "
              << log_of(dir_, seed).string() << ")" << std::endl;
  }

  void ended(uint64_t seed, int status) {
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    const bool stopped = WIFEXITED(status) && WEXITSTATUS(status) == 130;
    if (stopped) {
      std::cout << "seed " << seed << " stopped (resumable)" << std::endl;
      return;
    }
    if (!ok) {
      failed_.push_back(seed);
      std::cout << "seed " << seed << " failed: it " << describe_exit(status) << "; its last line: "
                << last_line(log_of(dir_, seed)) << std::endl;
      return;
    }
    mark_finished(seed);
    std::cout << "seed " << seed << " finished";
    if (scores_.count(seed) != 0) std::cout << ": held-out score " << scores_.at(seed);
    std::cout << " (" << finished_.size() << " of " << m_.seeds.size() << " finished, " << running_.size()
              << " running)" << so_far() << std::endl;
  }

  // A finished seed, with its held-out score read once (when its run has one).
  void mark_finished(uint64_t seed) {
    finished_.push_back(seed);
    if (const auto score = held_out_score(run_dir_of(dir_, seed))) scores_[seed] = *score;
  }

  // The IQM of the held-out scores so far, with its interval once there are a few.
  std::string so_far() const {
    stats::ScoresByTask scores{{}};
    for (const auto& [seed, score] : scores_) scores[0].push_back(score);
    if (scores[0].size() < 2) return "";
    const stats::Interval iqm = stats::iqm_interval(scores);
    std::ostringstream s;
    s << std::setprecision(5) << "; IQM so far " << iqm.point << " [" << iqm.lower << ", " << iqm.upper << "]";
    return s.str();
  }

  fs::path dir_;
  Manifest m_;
  int jobs_;
  std::map<pid_t, uint64_t> running_;
  std::vector<uint64_t> finished_, failed_;
  std::map<uint64_t, double> scores_;  // held-out scores of finished seeds
  bool stopping_ = false;
};

uint64_t parse_seed(const std::string& text, const std::string& list) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    if (text.empty() || text[0] == '-' || text[0] == '+') throw std::invalid_argument(text);
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) {
    throw std::invalid_argument("--seeds " + list + ": '" + text + "' is not a seed (a non-negative integer)");
  }
  return value;
}

}  // namespace

std::vector<uint64_t> parse_seed_list(const std::string& text) {
  std::vector<uint64_t> seeds;
  std::set<uint64_t> seen;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    const std::size_t dash = item.find('-', 1);
    uint64_t first = 0, last = 0;
    if (dash == std::string::npos) {
      first = last = parse_seed(item, text);
    } else {
      first = parse_seed(item.substr(0, dash), text);
      last = parse_seed(item.substr(dash + 1), text);
      if (last < first) throw std::invalid_argument("--seeds " + text + ": the range " + item + " runs backwards");
      if (last - first >= 10000) throw std::invalid_argument("--seeds " + text + ": " + item + " is over 10000 seeds");
    }
    for (uint64_t s = first;; ++s) {
      if (!seen.insert(s).second) {
        throw std::invalid_argument("--seeds " + text + ": seed " + std::to_string(s) + " is listed twice");
      }
      seeds.push_back(s);
      if (s == last) break;
    }
  }
  if (seeds.empty() || text.back() == ',') {
    throw std::invalid_argument("--seeds '" + text + "': expected seeds such as 1-10, 1,4,9 or 1-3,7");
  }
  return seeds;
}

bool is_experiment_dir(const std::string& dir) { return fs::exists(fs::path(dir) / kManifest); }

int run_experiment(const ExperimentArgs& args) {
  if (args.jobs < 1) throw std::invalid_argument("--jobs " + std::to_string(args.jobs) + ": expected at least 1");
  Manifest m;
  m.seeds = parse_seed_list(args.seeds);
  m.config_source = args.config;
  m.overrides = args.overrides;
  m.plugins = args.plugins;
  const ExperimentConfig config = load_config(args.config, args.overrides);
  const bool labels = config.algo == "supervised" || config.algo == "semi_supervised";
  const bool table = labels && (config.supervised.task == "classification" || config.supervised.task == "regression");
  const bool cloning = labels && config.supervised.task == "behaviour_cloning";
  // Clusters are scored against labels they never saw: a generated classification table's, or a
  // CSV's data.target column.
  const bool clusters = config.algo == "unsupervised" && config.supervised.task != "autoencoder" &&
                        (config.data.generate == "classification" || !config.data.target.empty());
  const bool scored = table || clusters ? config.data.test_fraction > 0
                                        : (cloning || !config.learns_from_data()) && config.trainer.test_episodes >= 1 &&
                                              !config.env.id.empty();
  if (!scored) {
    throw ConfigError(args.config + ": --seeds reports each seed's held-out test score: it needs an RL or behaviour "
                      "cloning config with env.id and trainer.test_episodes >= 1, or a supervised classification or "
                      "regression config with data.test_fraction > 0, or an unsupervised kmeans or gaussian_mixture config whose table "
                      "has labels to score its clusters against (data.generate: classification, or data.target)");
  }
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  // The most threads a run keeps busy at once: the env's, the math's, or the critics' (off-policy).
  const int64_t critic_threads = is_off_policy_actor_critic(config.algo)
                                     ? std::min(config.off_policy.critic_threads, config.off_policy.n_critics)
                                     : 1;
  const int64_t per_job =
      std::max({static_cast<int64_t>(config.trainer.torch_threads), static_cast<int64_t>(config.env.threads), critic_threads});
  const int64_t threads = static_cast<int64_t>(args.jobs) * per_job;
  if (threads > static_cast<int64_t>(cores)) {
    std::cout << "note: " << args.jobs << " jobs of " << per_job << " threads each on " << cores
              << " cores; runs will share cores" << std::endl;
  }
  const std::string dir = make_run_dir(args.out.empty() ? config.run.out_dir : args.out, config.run.name + "-seeds");
  std::error_code ignored;
  fs::remove(fs::path(dir) / "checkpoints", ignored);  // empty: each seed keeps its own
  YAML::Emitter resolved;
  resolved << config.resolved;
  write_file_atomically((fs::path(dir) / "config.yaml").string(), std::string(resolved.c_str()) + "\n");
  write_manifest(dir, m);
  return Scheduler(dir, m, args.jobs).run();
}

int resume_experiment(const std::string& dir, int jobs) {
  if (jobs < 1) throw std::invalid_argument("--jobs " + std::to_string(jobs) + ": expected at least 1");
  return Scheduler(dir, read_manifest(dir), jobs).run();
}

}  // namespace rlforge::cli
