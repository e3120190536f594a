// PPO behind the Trainer's Algorithm interface: a rollout of n_steps per env, then the update.
//
// Data-parallel (DD-PPO style) when given an active Distributed: every process steps its own
// vector env, all start from rank 0's weights, each minibatch's flat gradient is averaged over
// the processes before the step, and the normalisers' statistics are merged after each rollout,
// so that weights, optimiser state and statistics stay identical on every rank.
#include <array>
#include <chrono>

#include "rlforge/agents/ppo.h"
#include "rlforge/agents/running_norm.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/transfer.h"
#include "algorithms.h"

namespace rlforge {

namespace {

class PpoAlgorithm : public Algorithm {
 public:
  PpoAlgorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device, Distributed* distributed)
      : config_(config),
        ppo_(venv.spec(), config.ppo, config.run.seed, device),
        collector_(venv, config.ppo.gamma),
        buffer_(RolloutCollector::buffer_config(venv, config.ppo.n_steps, *ppo_.policy())),
        distributed_(distributed != nullptr && distributed->active() ? distributed : nullptr) {
    if (config.ppo.adversarial.attacks_observations()) {
      attack_.perturb = [this](const torch::Tensor& features) { return ppo_.attack_features(features); };
      attack_.envs = config.ppo.adversarial.attacked_envs(static_cast<int64_t>(config.env.num_envs));
    }
    if (!config.transfer.init_from.empty()) {
      // Pretrained layers first, so that every rank starts from them (rank 0's are broadcast).
      const std::vector<std::string> loaded = load_pretrained(*ppo_.policy(), config.transfer);
      ppo_.set_learning_rate_scales(learning_rate_scales(*ppo_.policy(), config.transfer, loaded));
    }
    if (distributed_ == nullptr) return;
    world_size_ = distributed_->world_size();
    torch::NoGradGuard no_grad;
    torch::Tensor weights = ppo_.flat_parameters().data().detach();
    distributed_->broadcast(weights);
    for (torch::Tensor buffer : ppo_.policy()->buffers()) distributed_->broadcast(buffer);
    for (const auto& module : ppo_.policy()->modules(/*include_self=*/false)) {
      if (auto norm = std::dynamic_pointer_cast<RunningNormImpl>(module)) norms_.push_back(norm);
    }
    if (config.federated.enabled) {
      // Federated: each client learns from its own env; weights are averaged every
      // average_every updates (iterate), gradients are not.
      federated_ = true;
      return;
    }
    const int64_t size = ppo_.flat_parameters().grad().numel();
    reduce_buffer_ = torch::zeros({size + 5}, torch::kFloat32);
    reduce_ = distributed_->sum_reducer(reduce_buffer_);
    ppo_.set_gradient_averager([this, size](torch::Tensor& gradient, torch::Tensor& stats) {
      reduce_buffer_.narrow(0, 0, size).copy_(gradient);
      reduce_buffer_.narrow(0, size, 5).copy_(stats);
      reduce_();
      reduce_buffer_.div_(world_size_);
      gradient.copy_(reduce_buffer_.narrow(0, 0, size));
      stats.copy_(reduce_buffer_.narrow(0, size, 5));
    });
  }

  Agent& agent() override { return ppo_; }

  void iterate() override {
    std::vector<torch::Tensor> before;
    if (distributed_ != nullptr) {
      for (const auto& norm : norms_) {
        for (const auto& b : norm->buffers()) before.push_back(b.clone());
      }
    }
    collector_.collect(ppo_.policy(), ppo_.generator(), buffer_, config_.ppo.gae_lambda, attack_);
    if (distributed_ != nullptr) merge_statistics(before);
    const int64_t steps = env_steps();
    const double progress_remaining =
        std::max(0.0, 1.0 - static_cast<double>(steps) / static_cast<double>(config_.trainer.total_steps));
    const auto start = std::chrono::steady_clock::now();
    metrics_ = ppo_.update({buffer_.observations(), buffer_.actions(), buffer_.log_probs(), buffer_.values(),
                            buffer_.advantages(), buffer_.returns()},
                           progress_remaining);
    if (federated_) {
      // Updates so far on this client (all clients take the same number).
      const int64_t rollout = config_.ppo.n_steps * static_cast<int64_t>(config_.env.num_envs);
      if ((collector_.env_steps() / rollout) % config_.federated.average_every == 0) {
        torch::NoGradGuard no_grad;
        torch::Tensor weights = ppo_.flat_parameters().data().detach();
        distributed_->allreduce_mean(weights);
      }
    }
    update_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // Over all processes: each collects the same number of steps per rollout.
  int64_t env_steps() const override { return collector_.env_steps() * world_size_; }
  std::vector<EpisodeSummary> take_finished_episodes() override { return collector_.take_finished_episodes(); }

  std::vector<Column> metric_columns() const override {
    std::vector<Column> columns{{"policy_loss", "loss/policy"},
                                {"value_loss", "loss/value"},
                                {"entropy", "loss/entropy"},
                                {"approx_kl", "ppo/approx_kl"},
                                {"clip_fraction", "ppo/clip_fraction"},
                                {"explained_variance", "ppo/explained_variance"},
                                {"learning_rate", "schedule/learning_rate"},
                                {"clip_range", "schedule/clip_range"}};
    // SA-PPO's radius, which its warm-up grows.
    if (config_.ppo.adversarial.active()) columns.push_back({"adversarial_epsilon", "schedule/adversarial_epsilon"});
    return columns;
  }
  std::vector<double> metric_values() const override {
    const PpoMetrics& m = metrics_;
    std::vector<double> values{m.policy_loss,        m.value_loss,    m.entropy,   m.approx_kl,
                               m.clip_fraction,      m.explained_variance, m.learning_rate, m.clip_range};
    if (config_.ppo.adversarial.active()) values.push_back(m.adversarial_epsilon);
    return values;
  }

  std::vector<std::string> state_names() const override { return {"generator", "discounted_returns"}; }
  void save_state(std::map<std::string, torch::Tensor>& extras, const std::string&) override {
    extras["generator"] = ppo_.generator().get_state();
    extras["discounted_returns"] = collector_.discounted_returns().clone();
  }
  void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t env_steps, const std::string&,
                     std::ostream&) override {
    ppo_.generator().set_state(extras.at("generator"));
    collector_.restore(extras.at("discounted_returns"), env_steps / world_size_);
  }

  std::vector<std::pair<std::string, double>> time_seconds() const override {
    return {{"env_steps", collector_.env_seconds()},
            {"policy_and_storage", collector_.policy_seconds()},
            {"update", update_seconds_}};
  }

 private:
  const ExperimentConfig& config_;
  Ppo ppo_;
  RolloutCollector collector_;
  RolloutBuffer buffer_;
  ObservationAttack attack_;  // training on attacked observations; empty otherwise
  PpoMetrics metrics_;
  double update_seconds_ = 0;
  Distributed* distributed_ = nullptr;
  int world_size_ = 1;
  bool federated_ = false;  // agent.federated: weights averaged every average_every updates
  std::vector<std::shared_ptr<RunningNormImpl>> norms_;
  torch::Tensor reduce_buffer_;
  std::function<void()> reduce_;  // sums reduce_buffer_ over the ranks

  // Each rank's normalisers took in its own rollout; merge what they took in (count, and sums
  // of deviations from the shared statistics they started from) so that all hold the statistics
  // of every rank's observations.
  void merge_statistics(const std::vector<torch::Tensor>& before) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    std::vector<std::array<torch::Tensor, 3>> starts;
    std::size_t k = 0;
    for (const auto& norm : norms_) {
      const auto now = norm->named_buffers(false);
      const auto names = norm->named_buffers(false).keys();
      std::map<std::string, torch::Tensor> b, a;
      for (std::size_t i = 0; i < names.size(); ++i) {
        b[names[i]] = before[k + i].to(torch::kCPU, torch::kFloat64);
        a[names[i]] = now[names[i]].to(torch::kCPU, torch::kFloat64);
      }
      k += names.size();
      const torch::Tensor shift = a["mean"] - b["mean"];
      parts.push_back((a["count"] - b["count"]).reshape({1}));
      parts.push_back(a["count"] * shift);
      parts.push_back(a["count"] * (a["var"] + shift * shift) - b["count"] * b["var"]);
      starts.push_back({b["mean"], b["var"], b["count"]});
    }
    if (parts.empty()) return;
    torch::Tensor packed = torch::cat(parts);
    distributed_->allreduce_sum(packed);
    int64_t offset = 0;
    for (std::size_t i = 0; i < norms_.size(); ++i) {
      const auto& [mean0, var0, count0] = starts[i];
      const int64_t size = mean0.numel();
      const torch::Tensor count = count0 + packed.narrow(0, offset, 1).reshape({});
      const torch::Tensor s1 = packed.narrow(0, offset + 1, size) / count;
      const torch::Tensor s2 = (count0 * var0 + packed.narrow(0, offset + 1 + size, size)) / count;
      offset += 1 + 2 * size;
      auto buffers = norms_[i]->named_buffers(false);
      buffers["mean"].copy_(mean0 + s1);
      buffers["var"].copy_((s2 - s1 * s1).clamp_min(0));
      buffers["count"].copy_(count);
    }
  }
};

}  // namespace

std::unique_ptr<Algorithm> make_ppo_algorithm(const ExperimentConfig& config, VectorEnv& venv, torch::Device device,
                                              Distributed* distributed) {
  return std::make_unique<PpoAlgorithm>(config, venv, device, distributed);
}

}  // namespace rlforge
