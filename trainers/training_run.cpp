// A run's set-up and resume, and what callbacks see of it (callback.h).
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "rlforge/agents/off_policy.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/seeds.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/callback.h"
#include "rlforge/trainers/compute_threads.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/trainer.h"

namespace fs = std::filesystem;

namespace rlforge {

TrainingRun::TrainingRun(const ExperimentConfig& config, std::string run_dir, std::ostream& log,
                         const RunControl& control)
    : config_(config), control_(control), run_dir_(std::move(run_dir)), log_(log) {
  set_compute_threads(config_.trainer.torch_threads);
  const torch::Device device = resolve_device(config_.run.device);
  if (control.distributed != nullptr && control.distributed->active()) distributed_ = control.distributed;
  rank_ = distributed_ != nullptr ? distributed_->rank() : 0;
  world_size_ = distributed_ != nullptr ? distributed_->world_size() : 1;
  fs::create_directories(fs::path(run_dir_) / "checkpoints");
  YAML::Emitter resolved;
  resolved << config_.resolved;
  resolved_config_ = resolved.c_str();
  if (control.resume) {
    if (!fs::exists(last_checkpoint())) {
      throw std::runtime_error("cannot resume " + run_dir_ + ": no checkpoints/" + fs::path(last_checkpoint()).filename().string());
    }
    check_resume_compatible(YAML::LoadFile((fs::path(run_dir_) / "config.yaml").string()), config_.resolved, run_dir_);
  }
  if (lead()) write_file_atomically((fs::path(run_dir_) / "config.yaml").string(), resolved_config_ + "\n");

  // Rank K's envs are seeded far from rank 0's and from the evaluation seeds (rlforge/envs/seeds.h), so
  // that rank 0 trains exactly as a single process would.
  rank_config_ = config_;
  rank_config_.run.seed = seeds::rank(config_.run.seed, rank_);
  // Federated PPO: this client's own env options.
  const std::vector<std::string>& clients = config_.federated.client_env_options;
  if (config_.federated.enabled && !clients.empty()) {
    if (static_cast<int>(clients.size()) != world_size_) {
      throw ConfigError("agent.federated.client_env_options: " + std::to_string(clients.size()) + " entries for " +
                        std::to_string(world_size_) + " clients (ranks); give one per rank");
    }
    rank_config_.env.options.set_assignments(clients[static_cast<std::size_t>(rank_)]);
  }
  learner_ = make_learner(rank_config_, device, distributed_);
  unit_ = learner_->step_unit();
  // Which backward pass PPO's updates take: the hand-derived one is several times faster.
  if (auto* ppo = config_.algo == "ppo" ? dynamic_cast<Ppo*>(&learner_->agent()) : nullptr; ppo != nullptr && lead() && !control.resume) {
    this->log() << "ppo updates: "
                << (ppo->uses_manual_gradient() ? "hand-derived gradients"
                    : config_.ppo.adversarial.enabled()
                        ? (config_.ppo.adversarial.certified()
                               ? "autograd (the adversarial regulariser, agent.adversarial, bounds the ball by interval propagation)"
                               : "autograd (SA-PPO's regulariser, agent.adversarial, needs a second forward pass)")
                        : "autograd")
                << std::endl;
  }
  // And the off-policy agents', with the threads their critics run on.
  if (auto* off = dynamic_cast<OffPolicyAgent*>(&learner_->agent()); off != nullptr && lead() && !control.resume) {
    this->log() << config_.algo << " updates: ";
    if (off->uses_manual_gradient()) {
      const int threads = off->critic_threads();
      this->log() << "hand-derived gradients, critics on " << threads << (threads > 1 ? " threads" : " thread");
    } else {
      this->log() << "autograd";
    }
    this->log() << std::endl;
  }
  if (control.resume) resume();
  first_steps_ = learner_->steps();
  start_ = std::chrono::steady_clock::now();
  progress_ = std::make_unique<ProgressReporter>(this->log(), control.terminal && lead(), config_.trainer.total_steps,
                                                 config_.trainer.log_every, first_steps_, unit_words(),
                                                 learner_->headline().first);
}

TrainingRun::~TrainingRun() = default;

namespace {

// A write that a killed process left half done: the temporary names rlforge's atomic writers use
// ("NAME.tmp" for checkpoints and replay buffers, "NAME.tmp<pid>" for images, ".NAME.tmp-<suffix>"
// for data files).
bool interrupted_write(const fs::path& file) {
  const std::string name = file.filename().string();
  const std::size_t at = name.rfind(".tmp");
  if (at == std::string::npos || at == 0) return false;
  const std::string rest = name.substr(at + 4);
  if (rest.empty()) return true;
  if (rest[0] == '-') return name[0] == '.';
  return std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

void TrainingRun::remove_interrupted_writes() {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(run_dir_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && interrupted_write(it->path())) {
      log() << "removing " << it->path().string() << " (a write the previous session did not finish)" << std::endl;
      fs::remove(it->path(), ec);
    }
  }
}

// The learner from last.pt, and the callbacks' state for on_start.
void TrainingRun::resume() {
  // A resumed run owns its directory: what a killed session was writing is of no use.
  if (lead()) remove_interrupted_writes();
  std::vector<std::string> names{"loop"};
  for (const std::string& name : learner_->state_names()) names.push_back(name);
  const Checkpoint info = load_checkpoint(last_checkpoint(), learner_->agent(), names);
  learner_->restore_state(info.extras, info.env_steps, (fs::path(run_dir_) / "checkpoints").string(), log());
  resumed_ = true;
  resumed_state_ = YAML::Load(tensor_text(info.extras.at("loop")));
  const int saved_world_size = resumed_state_["world_size"] ? resumed_state_["world_size"].as<int>() : 1;
  if (saved_world_size != world_size_) {
    throw std::runtime_error("cannot resume " + run_dir_ + ": it ran with " + std::to_string(saved_world_size) +
                             " process(es), this resume has " + std::to_string(world_size_) +
                             "; resume with the same --nproc / WORLD_SIZE");
  }
  if (distributed_ != nullptr) {
    // Every rank must resume from the same update (a rank's file could be one checkpoint behind).
    torch::Tensor steps = torch::tensor({static_cast<double>(info.env_steps), 1.0}, torch::kFloat64);
    distributed_->allreduce_sum(steps);
    if (steps[0].item<double>() != static_cast<double>(info.env_steps) * world_size_) {
      throw std::runtime_error("cannot resume " + run_dir_ + ": the ranks' checkpoints are from different updates (" +
                               fs::path(last_checkpoint()).filename().string() + " is at " +
                               std::to_string(info.env_steps) + " " + unit_ + ")");
    }
  }
  elapsed_before_ = resumed_state_["elapsed_seconds"].as<double>();
  log() << "resuming " << run_dir_ << " at " << info.env_steps << " " << unit_ << std::endl;  // before the bar
}

void TrainingRun::attach(std::vector<std::shared_ptr<Callback>> callbacks) {
  callbacks_ = std::move(callbacks);
  metric_columns_ = learner_->metric_columns();
  for (const auto& callback : callbacks_) {
    for (auto& column : callback->metric_columns(*this)) metric_columns_.push_back(std::move(column));
  }
}

std::string TrainingRun::checkpoint_path(const std::string& name) const {
  return (fs::path(run_dir_) / "checkpoints" / name).string();
}

std::string TrainingRun::last_checkpoint() const {
  // Rank K > 0 keeps what only it knows (its envs' state and generator) in rank_K.pt.
  return checkpoint_path(lead() ? "last.pt" : "rank_" + std::to_string(rank_) + ".pt");
}

std::string TrainingRun::unit_words() const { return unit_ == "env_steps" ? "steps" : unit_ + "s"; }

double TrainingRun::session_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void TrainingRun::request_stop(StopKind kind, const std::string& reason) {
  stop_[static_cast<int>(kind)] = true;
  if (stop_reason_[static_cast<int>(kind)].empty()) stop_reason_[static_cast<int>(kind)] = reason;
}

bool TrainingRun::stop_requested(StopKind kind) const { return stop_[static_cast<int>(kind)]; }

void TrainingRun::set_stop_requests(bool interrupt, bool finish) {
  const bool wanted[2] = {interrupt, finish};
  for (int k = 0; k < 2; ++k) {
    stop_[k] = wanted[k];
    if (!wanted[k]) stop_reason_[k].clear();
  }
}

const std::string& TrainingRun::stop_reason(StopKind kind) const { return stop_reason_[static_cast<int>(kind)]; }

void TrainingRun::publish_evaluation(const EvaluationRecord& record) {
  for (const auto& callback : callbacks_) callback->on_evaluation(*this, record);
}

}  // namespace rlforge
