// Supervised learning behind the Trainer's Learner interface: classification and regression on
// tables, and behaviour cloning of a policy from recorded episodes. One iterate() is one epoch
// over the training split in shuffled minibatches; evaluation scores the validation split with
// the shared metrics (and, when cloning, runs episodes on the env); at the end the best
// checkpoint is scored on the test split.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "rlforge/agents/actor_critic.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/data/splits.h"
#include "rlforge/data/errors.h"
#include "rlforge/data/tabular.h"
#include "rlforge/envs/seeds.h"
#include "rlforge/stats/privacy_accountant.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/federated.h"
#include "rlforge/trainers/augmentation.h"
#include "rlforge/trainers/semi_supervised.h"
#include "rlforge/trainers/learner.h"
#include "rlforge/trainers/metrics.h"
#include "rlforge/trainers/supervised_data.h"
#include "rlforge/trainers/trainer.h"

namespace rlforge {

namespace fs = std::filesystem;

namespace {

// The regression loss of a batch: the mean over every element, or with `per_sample` each
// sample's mean over its elements, [B] (DP-SGD clips per sample; their mean is the batch's).
torch::Tensor regression_loss(const std::string& loss, const torch::Tensor& prediction, const torch::Tensor& target,
                              bool per_sample = false) {
  namespace F = torch::nn::functional;
  torch::Tensor elements;
  if (loss == "mae") {
    elements = F::l1_loss(prediction, target, F::L1LossFuncOptions().reduction(torch::kNone));
  } else if (loss == "huber") {
    // Huber with delta 1 is smooth L1 with beta 1.
    elements = F::smooth_l1_loss(prediction, target, F::SmoothL1LossFuncOptions().reduction(torch::kNone));
  } else {
    elements = F::mse_loss(prediction, target, F::MSELossFuncOptions().reduction(torch::kNone));
  }
  return per_sample ? elements.flatten(1).mean(1) : elements.mean();
}

// The sum of |w| over weight matrices and filters (not biases), for the L1 penalty.
torch::Tensor l1_norm(torch::nn::Module& module) {
  torch::Tensor total;
  for (const auto& p : module.parameters()) {
    if (p.dim() < 2) continue;
    total = total.defined() ? total + p.abs().sum() : p.abs().sum();
  }
  return total;
}

class SupervisedLearner : public Learner {
 public:
  SupervisedLearner(const ExperimentConfig& config, torch::Device device, Distributed* distributed)
      : config_(config),
        s_(config.supervised),
        device_(device),
        data_(load_supervised_data(shared_data_config(config, distributed))) {
    if (config_.federated.enabled) {
      federation_ = Federation{distributed != nullptr && distributed->active() ? distributed : nullptr,
                               shared_data_config(config, distributed).run.seed};
    }
    if (federation_ && !config.federated.client_data.empty()) {
      unify_classes();
    } else if (federation_) {
      take_shard();
    }
    EnvSpec spec;
    if (data_.episodes) {
      spec.id = data_.episodes->env_id();
      spec.observation_space = data_.episodes->observation_space();
      spec.action_space = data_.episodes->action_space();
      frame_layout_ = image_layout(spec.observation_space);
    }
    const int64_t outputs = data_.classes > 0 ? data_.classes : data_.target_size;
    model_ = make_supervised_model(config, spec, data_.input_size, outputs, config.run.seed, device);
    // The model's kind, resolved once (loading a checkpoint keeps the module object).
    const std::shared_ptr<torch::nn::Module>& module = model_->module_ptr();
    predictor_ = std::dynamic_pointer_cast<PredictorImpl>(module);
    policy_ = std::dynamic_pointer_cast<ActorCriticImpl>(module);
    pretext_net_ = std::dynamic_pointer_cast<SelfSupervisedNetImpl>(module);
    if (predictor_ && !s_.optimizer.dp.enabled) {
      // Inputs are standardised with the training split's statistics (kept in the model). Not
      // under DP-SGD: statistics of the private rows would be released unaccounted.
      const torch::Tensor x = data_.table_inputs.index_select(0, data_.split.train);
      if (federation_ && federation_->group != nullptr) {
        // Over all clients' rows, from their counts and moments.
        const auto [mean, std] = federated_moments(x, [this](torch::Tensor& t) { federation_->group->allreduce_sum(t); });
        predictor_->set_input_statistics(mean, std);
      } else {
        predictor_->set_input_statistics(x.mean(0), x.std(0, /*unbiased=*/false));
      }
    }
    if (semi_supervised()) setup_augmentation();
    if (config.data.labeled_fraction < 1) keep_labels();
    if (semi_supervised()) setup_pseudo_labels();
    if (s_.optimizer.dp.enabled) setup_privacy();
    if (federation_ && federation_->group != nullptr) {
      // Every client starts from the same global weights: rank 0's.
      for (torch::Tensor p : model_->module().parameters()) {
        torch::NoGradGuard no_grad;
        torch::Tensor copy = p.detach().clone();
        federation_->group->broadcast(copy);
        p.copy_(copy);
      }
    }
    if (cloning() && !config.env.id.empty()) {
      eval_env_ = config.env;
      eval_env_.num_envs = static_cast<int>(std::min<int64_t>(config.trainer.eval_episodes, 8));
      eval_env_.threads = 1;
    }
  }

  Agent& agent() override { return *model_; }
  std::string step_unit() const override { return "epoch"; }
  int64_t steps() const override { return epoch_; }

  void iterate() override {
    const auto start = std::chrono::steady_clock::now();
    torch::nn::Module& module = model_->module();
    module.train();
    double learning_rate = s_.optimizer.learning_rate;
    if (s_.learning_rate_linear) {
      learning_rate *= 1.0 - static_cast<double>(epoch_) / static_cast<double>(config_.trainer.total_steps);
    }
    set_learning_rate(model_->optimizer(), learning_rate);
    learning_rate_ = learning_rate;
    if (semi_supervised()) {
      iterate_semi_supervised();
    } else if (privacy_) {
      iterate_private();
    } else if (federation_) {
      federated_round();
    } else {
      train_epoch(nullptr);
    }
    ++epoch_;
    train_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // One pass over the training split in shuffled minibatches; with `anchor` (FedProx), the
  // proximal term mu / 2 |w - anchor|^2 joins the loss.
  void train_epoch(const std::vector<torch::Tensor>* anchor) {
    torch::nn::Module& module = model_->module();
    const torch::Tensor& train = data_.split.train;
    const int64_t n = train.numel();
    const torch::Tensor order = train.index_select(0, torch::randperm(n, model_->generator(), torch::kInt64));
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t begin = 0; begin < n; begin += s_.batch_size) {
      const torch::Tensor rows = order.narrow(0, begin, std::min(s_.batch_size, n - begin));
      Batch batch = data_.batch(rows, device_);
      if (s_.random_shift > 0) {
        // A frame and its successor move together: an independent shift of each blurs the motion
        // that inverse dynamics reads the action from, as it is as large as the motion (held-out
        // accuracy 0.85 instead of 0.98 in tests/trainers/test_supervised.cpp).
        const torch::Tensor offsets = shift_offsets(batch.inputs.size(0), s_.random_shift, model_->generator());
        batch.inputs = random_shift(batch.inputs, *frame_layout_, s_.random_shift, offsets);
        if (batch.next_inputs.defined()) {
          batch.next_inputs = random_shift(batch.next_inputs, *frame_layout_, s_.random_shift, offsets);
        }
      }
      Output out = forward(batch);
      torch::Tensor loss = out.loss;
      if (s_.l1 > 0) loss = loss + s_.l1 * l1_norm(module);
      if (anchor != nullptr) loss = loss + 0.5 * config_.federated.proximal_mu * proximal_term(*anchor);
      model_->optimizer().zero_grad();
      loss.backward();
      model_->optimizer().step();
      const double batch_loss = out.loss.item<double>();
      if (!std::isfinite(batch_loss)) {
        throw std::runtime_error("the training loss became " + std::to_string(batch_loss) +
                                 " (lower optimizer.learning_rate?)");
      }
      loss_sum += batch_loss * static_cast<double>(rows.numel());
      if (out.predicted_class.defined()) correct += out.predicted_class.eq(batch.labels).sum().item<int64_t>();
    }
    train_loss_ = loss_sum / static_cast<double>(n);
    train_accuracy_ = classes() > 0 ? static_cast<double>(correct) / static_cast<double>(n) : NAN;
  }

  std::vector<Column> metric_columns() const override {
    std::vector<Column> columns{{"train_loss", "train/loss"}};
    if (classes() > 0) columns.push_back({"train_accuracy", "train/accuracy"});
    columns.push_back({"learning_rate", "schedule/learning_rate"});
    if (federation_) {
      columns.push_back({"client_rows", "federated/client_rows"});
      columns.push_back({"bytes_sent", "federated/bytes_sent"});
      columns.push_back({"round_clients", "federated/round_clients"});
    }
    if (federation_ && config_.federated.client_noise_multiplier > 0) {
      columns.push_back({"client_epsilon", "privacy/client_epsilon"});
      columns.push_back({"client_update_norm", "privacy/client_update_norm"});
    }
    if (semi_supervised()) {
      columns.push_back({"pseudo_label_fraction", "semi_supervised/pseudo_label_fraction"});
      // Against the hidden labels: the accuracy of the classes, or the mean absolute error of the actions.
      if (classes() > 0) {
        columns.push_back({"pseudo_label_accuracy", "semi_supervised/pseudo_label_accuracy"});
      } else {
        columns.push_back({"pseudo_label_error", "semi_supervised/pseudo_label_error"});
      }
    }
    if (privacy_) {
      columns.push_back({"epsilon", "privacy/epsilon"});
      columns.push_back({"clipped_fraction", "privacy/clipped_fraction"});
      columns.push_back({"grad_norm", "privacy/per_sample_grad_norm"});
    }
    return columns;
  }
  std::vector<double> metric_values() const override {
    std::vector<double> values{train_loss_};
    if (classes() > 0) values.push_back(train_accuracy_);
    values.push_back(learning_rate_);
    if (federation_) {
      values.insert(values.end(), {static_cast<double>(federation_->rows), federation_->bytes_sent,
                                   static_cast<double>(federation_->round_clients)});
    }
    if (federation_ && config_.federated.client_noise_multiplier > 0) {
      values.insert(values.end(), {client_epsilon(), federation_->update_norm});
    }
    if (semi_supervised()) values.insert(values.end(), {pseudo_label_fraction_, pseudo_label_score_});
    if (privacy_) values.insert(values.end(), {spent_epsilon(), privacy_->clipped_fraction, privacy_->grad_norm});
    return values;
  }
  std::pair<std::string, double> headline() const override { return {"loss", train_loss_}; }

  std::vector<Column> eval_columns() const override {
    std::vector<Column> columns;
    for (const std::string& name : score_names()) columns.push_back({name, "validation/" + name});
    if (!eval_env_.id.empty()) {
      columns.push_back({"mean_return", "eval/mean_return"});
      columns.push_back({"std_return", "eval/std_return"});
      columns.push_back({"mean_length", "eval/mean_length"});
      columns.push_back({"episodes", ""});
    }
    return columns;
  }
  std::pair<std::string, bool> score_column() const override { return {"loss", true}; }

  Evaluation evaluate(bool /*final*/) override {
    const auto start = std::chrono::steady_clock::now();
    Evaluation e;
    const Scores scores = score(data_.split.validation);
    e.values = scores.values;
    std::ostringstream text;
    text << "validation " << scores.text;
    if (!eval_env_.id.empty()) {
      const EvaluationResult r = evaluate_agent(*model_, eval_env_, config_.trainer.eval_episodes,
                                                seeds::validation(config_.run.seed), config_.trainer.eval_deterministic,
                                                model_->generator());
      e.values.insert(e.values.end(), {r.mean_return, r.std_return, r.mean_length, static_cast<double>(r.episodes)});
      e.episodes = r;
      text << "; episodes: mean_return " << r.mean_return << " +- " << r.std_return << " (" << r.episodes << ")";
    }
    e.text = text.str();
    e.score = -e.values.front();
    eval_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return e;
  }

  std::vector<std::string> state_names() const override {
    std::vector<std::string> names{"generator", "torch_generator", "learner"};
    if (teacher_.enabled()) names.push_back("teacher");
    if (remedies_.alignment.enabled()) names.push_back("alignment");
    if (remedies_.thresholds.enabled()) names.push_back("flexible_thresholds");
    return names;
  }
  void save_state(std::map<std::string, torch::Tensor>& extras, const std::string&) override {
    extras["generator"] = model_->generator().get_state();
    // Dropout draws from LibTorch's default generator.
    extras["torch_generator"] = at::detail::getDefaultCPUGenerator().get_state();
    YAML::Node n;
    n["train_loss"] = train_loss_;
    n["train_accuracy"] = train_accuracy_;
    n["learning_rate"] = learning_rate_;
    if (semi_supervised()) {
      n["pseudo_label_fraction"] = pseudo_label_fraction_;
      n["pseudo_label_accuracy"] = pseudo_label_score_;
    }
    if (privacy_) {
      n["clipped_fraction"] = privacy_->clipped_fraction;
      n["grad_norm"] = privacy_->grad_norm;
    }
    extras["learner"] = yaml_tensor(n);
    if (teacher_.enabled()) extras["teacher"] = teacher_.state();
    if (remedies_.alignment.enabled()) extras["alignment"] = remedies_.alignment.running_mean().to(torch::kCPU);
    if (remedies_.thresholds.enabled()) extras["flexible_thresholds"] = remedies_.thresholds.last_confident();
  }
  void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t steps, const std::string&,
                     std::ostream&) override {
    model_->generator().set_state(extras.at("generator"));
    torch::Generator global = at::detail::getDefaultCPUGenerator();
    global.set_state(extras.at("torch_generator"));
    const YAML::Node n = YAML::Load(tensor_text(extras.at("learner")));
    train_loss_ = n["train_loss"].as<double>();
    train_accuracy_ = n["train_accuracy"].as<double>();
    learning_rate_ = n["learning_rate"].as<double>();
    epoch_ = steps;
    if (n["pseudo_label_fraction"]) {
      pseudo_label_fraction_ = n["pseudo_label_fraction"].as<double>();
      pseudo_label_score_ = n["pseudo_label_accuracy"].as<double>();
    }
    if (teacher_.enabled()) teacher_.set_state(extras.at("teacher"));
    if (remedies_.alignment.enabled()) remedies_.alignment.set_running_mean(extras.at("alignment"));
    if (remedies_.thresholds.enabled()) remedies_.thresholds.set_last_confident(extras.at("flexible_thresholds"));
    if (privacy_) {
      if (n["clipped_fraction"]) privacy_->clipped_fraction = n["clipped_fraction"].as<double>();
      if (n["grad_norm"]) privacy_->grad_norm = n["grad_norm"].as<double>();
    }
  }

  std::vector<std::pair<std::string, double>> time_seconds() const override {
    return {{"training", train_seconds_}, {"evaluation", eval_seconds_}};
  }

  // Federated clients with files of their own hold test rows of their own: every client scores
  // the global best model (rank 0's best.pt, broadcast) on them, and the clients' scores and the
  // counts behind them are gathered. Only aggregates cross ranks: per client its row count, its
  // scores, and its confusion matrix (classes) or error sums and target moments (regression).
  void before_summary(const std::string& best_checkpoint) override {
    if (!federation_ || federation_->group == nullptr || config_.federated.client_data.empty()) return;
    Distributed& group = *federation_->group;
    if (!share_best_weights(group, best_checkpoint)) return;
    const Scores mine = score(data_.split.test);
    // One row per client: its test rows, its scores, then what pools exactly (the confusion
    // matrix, or the regression moments). Each rank fills its own row; a sum gathers them.
    const std::vector<std::string> names = score_names();
    const int64_t c = classes();
    const auto pooled_at = static_cast<int64_t>(1 + names.size());
    const int64_t width = pooled_at + (c > 0 ? c * c : 5);
    torch::Tensor table = torch::zeros({group.world_size(), width}, torch::kFloat64);
    torch::Tensor my_row = table[group.rank()];
    auto row = my_row.accessor<double, 1>();
    row[0] = static_cast<double>(data_.split.test.numel());
    for (std::size_t i = 0; i < names.size(); ++i) row[static_cast<int64_t>(1 + i)] = mine.values[i];
    if (c > 0 && mine.report) {
      for (int64_t t = 0; t < c; ++t) {
        for (int64_t p = 0; p < c; ++p) row[pooled_at + t * c + p] = static_cast<double>(mine.report->confusion[t][p]);
      }
    } else if (c == 0) {
      const RegressionAccumulator::Moments m = mine.moments;
      const double values[] = {static_cast<double>(m.samples), m.target_mean, m.target_m2, m.squared_error, m.absolute_error};
      for (int64_t i = 0; i < 5; ++i) row[pooled_at + i] = values[i];
    }
    // A NaN score (a client without test rows, an undefined AUC) would poison every client's
    // entry in the sum: it travels as a flag column of its own.
    const torch::Tensor missing = table.isnan();
    torch::Tensor gathered = torch::cat({torch::nan_to_num(table, 0.0), missing.to(torch::kFloat64)}, 1);
    group.allreduce_sum(gathered);
    client_test_ = pool_client_scores(gathered.narrow(1, 0, width).masked_fill(gathered.narrow(1, width, width).gt(0), NAN),
                                      names, pooled_at);
  }

  // The best checkpoint (selected on validation) scored on the test split.
  void finish(YAML::Node& summary, const std::string& best_checkpoint, std::ostream& log) override {
    summary["data"]["train"] = data_.split.train.numel();
    summary["data"]["validation"] = data_.split.validation.numel();
    summary["data"]["test"] = data_.split.test.numel();
    summary["data"]["unit"] = data_.episodes ? "steps (split by episode)" : "rows";
    if (unlabeled_.defined()) {
      summary["data"]["labeled"] = data_.split.train.numel();
      summary["data"]["unlabeled"] = unlabeled_.numel();
      summary["data"]["unlabeled_used"] = semi_supervised();
    }
    if (federation_ && config_.federated.client_noise_multiplier > 0) {
      YAML::Node p = summary["privacy"];
      const double q = config_.federated.client_fraction;
      p["mechanism"] = q < 1 ? "DP-FedAvg (client updates clipped, Gaussian noise on their sum; clients Poisson-sampled per round)"
                             : "DP-FedAvg (client updates clipped, Gaussian noise on their sum; every client every round)";
      std::ostringstream accountant;
      accountant << "RDP of the sampled Gaussian mechanism (sampling rate " << q << "), Balle et al. 2020 conversion";
      p["accountant"] = accountant.str();
      p["client_fraction"] = q;
      p["epsilon"] = client_epsilon();
      p["delta"] = config_.federated.client_delta;
      p["noise_multiplier"] = config_.federated.client_noise_multiplier;
      p["client_clip"] = config_.federated.client_clip;
      p["rounds"] = epoch_;
      p["clients"] = federation_->group != nullptr ? federation_->group->world_size() : 1;
      p["protects"] = "each client's whole shard (client-level); the clients see the exact sum of clipped updates";
      log << "privacy: client-level (epsilon " << client_epsilon() << ", delta " << config_.federated.client_delta
          << ") after " << epoch_ << " rounds" << std::endl;
    }
    if (privacy_) {
      YAML::Node p = summary["privacy"];
      p["mechanism"] = "DP-SGD (Poisson sampling, per-sample clipping, Gaussian noise)";
      p["accountant"] = "RDP of the sampled Gaussian mechanism, Balle et al. 2020 conversion";
      p["epsilon"] = spent_epsilon();
      p["delta"] = s_.optimizer.dp.delta;
      p["noise_multiplier"] = privacy_->noise_multiplier;
      if (s_.optimizer.dp.target_epsilon > 0) p["target_epsilon"] = s_.optimizer.dp.target_epsilon;
      p["max_grad_norm"] = s_.optimizer.dp.max_grad_norm;
      p["sample_rate"] = privacy_->sample_rate;
      p["steps"] = private_steps();
      p["protects"] = data_.episodes
                          ? "each recorded step of the training split (an episode of T steps: group privacy over T); "
                            "validation and test episodes are not protected"
                          : "each row of the training split; validation and test rows are not protected";
      log << "privacy: (epsilon " << spent_epsilon() << ", delta " << s_.optimizer.dp.delta << ") after "
          << private_steps() << " DP-SGD steps, noise multiplier " << privacy_->noise_multiplier << std::endl;
    }
    if (client_test_) {
      // Every client's test rows: the pooled scores, then each client's own.
      const ClientTestScores& t = *client_test_;
      const std::vector<std::string> names = score_names();
      for (std::size_t i = 0; i < names.size(); ++i) summary["test"][names[i]] = t.pooled[i];
      summary["test"]["rows"] = t.rows;
      summary["test"]["pooled"] =
          "every client's test rows: loss averaged over rows; the other scores from the summed confusion matrix (classes) "
          "or error sums and target moments (regression); roc_auc is the row-weighted mean of the clients' AUCs";
      for (std::size_t client = 0; client < t.clients.size(); ++client) {
        YAML::Node node;
        node["client"] = client;
        node["rows"] = t.clients[client].rows;
        for (const std::string& name : names) node[name] = t.clients[client].scores.at(name);
        summary["test"]["clients"].push_back(node);
      }
      if (t.report) summary["test"]["confusion"] = t.report->confusion;
      log << "test (best checkpoint, " << t.clients.size() << " clients' " << t.rows << " test rows):";
      for (std::size_t i = 0; i < names.size(); ++i) log << (i == 0 ? " " : "  ") << names[i] << " " << t.pooled[i];
      log << std::endl;
      if (t.report) log << format_confusion(*t.report, data_.class_names) << std::endl;
      return;
    }
    if (data_.split.test.numel() == 0) return;
    load_checkpoint(best_checkpoint, *model_);
    const Scores scores = score(data_.split.test);
    const std::vector<std::string> names = score_names();
    for (std::size_t i = 0; i < names.size(); ++i) summary["test"][names[i]] = scores.values[i];
    log << "test (best checkpoint): " << scores.text << std::endl;
    if (!eval_env_.id.empty() && config_.trainer.test_episodes > 0) {
      // The cloned policy on held-out env seeds (rlforge/envs/seeds.h), which neither the data nor
      // the validation episodes that selected best.pt used.
      const uint64_t seed = seeds::test(config_.run.seed);
      torch::Generator generator = at::detail::createCPUGenerator(seed);
      const EvaluationResult r = evaluate_agent(*model_, eval_env_, config_.trainer.test_episodes, seed,
                                                config_.trainer.eval_deterministic, generator);
      YAML::Node held_out = summary["test"]["held_out"];
      held_out["first_seed"] = seed;
      held_out["episodes"] = r.episodes;
      held_out["mean_return"] = r.mean_return;
      held_out["std_return"] = r.std_return;
      held_out["mean_length"] = r.mean_length;
      log << "test (held-out seeds from " << seed << ", " << r.episodes << " episodes): best.pt " << r.mean_return
          << " +- " << r.std_return << std::endl;
    }
    if (scores.report) {
      std::vector<std::vector<int64_t>> confusion = scores.report->confusion;
      summary["test"]["confusion"] = confusion;
      log << format_confusion(*scores.report, data_.class_names) << std::endl;
    }
  }

  CurveSpec curve(const std::string& title) const override {
    return {title,
            "epoch",
            "epoch",
            "loss (" + data_.loss_name + ")",
            {{"metrics.csv", "train_loss", "training", false}, {"eval.csv", "loss", "validation", true}}};
  }

 private:
  struct Output {
    torch::Tensor loss;             // mean over the batch
    torch::Tensor predicted_class;  // classification and discrete cloning
    torch::Tensor scores;           // class probabilities [B, C]
    torch::Tensor prediction;       // regression and continuous cloning [B, d]
  };

  // DP-SGD's plan and what it has spent.
  struct Privacy {
    double sample_rate = 0;
    double noise_multiplier = 0;
    int64_t steps_per_epoch = 0;  // every epoch takes as many: the steps taken follow from the epoch
    double clipped_fraction = NAN, grad_norm = NAN;  // last epoch's
  };

  // Poisson sampling at rate batch_size / rows, steps_per_epoch = ceil(rows / batch_size); with
  // target_epsilon, the smallest noise multiplier that spends at most it over trainer.epochs.
  void setup_privacy() {
    const DpSgdConfig& dp = s_.optimizer.dp;
    const int64_t n = data_.split.train.numel();
    if (n < 1) throw std::invalid_argument("DP-SGD needs training rows");
    Privacy p;
    p.sample_rate = std::min(1.0, static_cast<double>(s_.batch_size) / static_cast<double>(n));
    p.steps_per_epoch = (n + s_.batch_size - 1) / s_.batch_size;
    p.noise_multiplier = dp.noise_multiplier;
    if (dp.target_epsilon > 0) {
      p.noise_multiplier =
          stats::dp_sgd_noise_multiplier(p.sample_rate, p.steps_per_epoch * config_.trainer.total_steps, dp.delta, dp.target_epsilon);
    }
    privacy_ = p;
  }

  int64_t private_steps() const { return epoch_ * privacy_->steps_per_epoch; }
  double spent_epsilon() const {
    return stats::dp_sgd_epsilon(privacy_->sample_rate, privacy_->noise_multiplier, private_steps(), s_.optimizer.dp.delta)
        .epsilon;
  }

  // One epoch of DP-SGD: each step samples every training row (a table's row, a recorded step)
  // with probability q, clips each row's gradient, adds noise, and lets the optimiser step.
  void iterate_private() {
    Privacy& p = *privacy_;
    DpSgdConfig dp = s_.optimizer.dp;
    dp.noise_multiplier = p.noise_multiplier;
    const torch::Tensor& train = data_.split.train;
    const int64_t n = train.numel();
    const double expected_batch = p.sample_rate * static_cast<double>(n);
    // A cloned policy trains its actor only (the critic is left as it is).
    const std::vector<torch::Tensor> parameters = policy_ ? policy_->policy_parameters() : model_->module().parameters();
    double loss_sum = 0, norm_sum = 0, clipped = 0;
    int64_t seen = 0, correct = 0;
    for (int64_t step = 0; step < p.steps_per_epoch; ++step) {
      const torch::Tensor chosen = torch::rand({n}, model_->generator()).lt(p.sample_rate).nonzero().flatten();
      const torch::Tensor rows = train.index_select(0, chosen);
      const Batch batch = data_.batch(rows, device_);
      LinearTape tape;
      const torch::Tensor output = policy_ ? policy_->policy_output_recorded(policy_->prepare(batch.inputs, false), tape)
                                           : predictor_->forward(batch.inputs, tape);
      torch::Tensor losses;
      if (classes() > 0) {
        losses = torch::nn::functional::cross_entropy(
            output, batch.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
      } else {
        losses = regression_loss(s_.loss, output, batch.targets, /*per_sample=*/true);
      }
      model_->optimizer().zero_grad();
      const DpGradientStats g = dp_sgd_gradient(losses, tape, parameters, dp, expected_batch, model_->generator());
      if (s_.l1 > 0) {
        // The penalty depends on the weights only, not on any row: its gradient needs no clipping.
        const torch::Tensor l1 = s_.l1 * l1_norm(model_->module());
        const std::vector<torch::Tensor> grads = torch::autograd::grad({l1}, parameters, {}, false, false, true);
        torch::NoGradGuard no_grad;
        for (std::size_t k = 0; k < parameters.size(); ++k) {
          if (grads[k].defined()) parameters[k].mutable_grad() += grads[k];
        }
      }
      model_->optimizer().step();
      const double batch_loss = losses.detach().sum().item<double>();
      if (!std::isfinite(batch_loss)) {
        throw std::runtime_error("the training loss became " + std::to_string(batch_loss) +
                                 " (lower optimizer.learning_rate?)");
      }
      loss_sum += batch_loss;
      norm_sum += g.mean_norm * static_cast<double>(g.samples);
      clipped += g.clipped_fraction * static_cast<double>(g.samples);
      seen += g.samples;
      if (classes() > 0) correct += output.argmax(1).eq(batch.labels).sum().item<int64_t>();
    }
    const double count = static_cast<double>(std::max<int64_t>(seen, 1));
    train_loss_ = loss_sum / count;
    train_accuracy_ = classes() > 0 ? static_cast<double>(correct) / count : NAN;
    p.grad_norm = norm_sum / count;
    p.clipped_fraction = clipped / count;
  }

  // Federated averaging: what this client holds and has sent.
  struct Federation {
    Distributed* group = nullptr;  // null: one client (nothing to average)
    uint64_t shared_seed = 0;      // the run's seed, alike on every client (its rank's is not)
    int64_t rows = 0;              // this client's training rows
    double bytes_sent = 0;         // per round, by this client
    double update_norm = NAN;      // DP-FedAvg: this client's last update, before clipping
    int round_clients = 0;         // clients that took part in the last round (client sampling)
  };

  // DP-FedAvg's client-level epsilon after the rounds taken (one per epoch), each a Gaussian
  // mechanism on a Poisson sample of the clients at rate client_fraction.
  double client_epsilon() const {
    const FederatedConfig& c = config_.federated;
    return stats::dp_sgd_epsilon(c.client_fraction, c.client_noise_multiplier, epoch_, c.client_delta).epsilon;
  }

  // Every client reads the same table (the run's seed, not its rank's) and keeps its own shard;
  // with agent.federated.client_data, each client reads its own file instead.
  static ExperimentConfig shared_data_config(const ExperimentConfig& config, Distributed* distributed) {
    ExperimentConfig shared = config;
    const bool clients = config.federated.enabled && distributed != nullptr && distributed->active();
    if (clients) shared.run.seed = config.run.seed - static_cast<uint64_t>(distributed->rank()) * seeds::kRankStride;
    const std::vector<std::string>& files = config.federated.client_data;
    if (!files.empty()) {
      const int world = clients ? distributed->world_size() : 1;
      if (static_cast<int>(files.size()) != world) {
        throw ConfigError(config.source + ": agent.federated.client_data: " + std::to_string(files.size()) +
                          " files for " + std::to_string(world) + " clients (one per rank: --nproc N)");
      }
      shared.data.csv = files[static_cast<std::size_t>(clients ? distributed->rank() : 0)];
    }
    return shared;
  }

  // Clients with files of their own: class indices by the union of every client's class names (a
  // client may lack some classes), in read_csv's order. Only the names cross ranks.
  void unify_classes() {
    Federation& f = *federation_;
    f.rows = data_.split.train.numel();
    if (data_.classes == 0 || f.group == nullptr) return;
    std::string mine;
    for (const std::string& name : data_.class_names) mine += name + "\n";
    std::vector<std::string> all;
    for (const std::string& text : gather_texts(mine, f.group->rank(), f.group->world_size(),
                                                [&](torch::Tensor& t) { f.group->allreduce_sum(t); })) {
      std::istringstream lines(text);
      for (std::string name; std::getline(lines, name);) all.push_back(name);
    }
    const std::vector<std::string> names = class_order(all);
    std::vector<int64_t> to_union;
    for (const std::string& name : data_.class_names) {
      to_union.push_back(std::find(names.begin(), names.end(), name) - names.begin());
    }
    data_.table_labels = torch::tensor(to_union, torch::kInt64).index_select(0, data_.table_labels);
    data_.class_names = names;
    data_.classes = static_cast<int64_t>(names.size());
    if (data_.classes < 2) {
      throw DataError(config_.source + ": agent.federated.client_data: the clients' files hold " +
                      std::to_string(data_.classes) + " class between them; classification needs at least 2");
    }
  }

  // This client's rows of the training split: an even random share (iid), or per class a
  // Dirichlet(alpha) share (label skew). One client keeps the whole split, in its order.
  void take_shard() {
    Federation& f = *federation_;
    if (f.group != nullptr && f.group->world_size() > 1) {
      // Seeded alike on every client, so that the shares are disjoint and cover the split.
      torch::Generator g = at::detail::createCPUGenerator(f.shared_seed + 0xfeda11ULL);
      data_.split.train = client_shard(data_.split.train, data_.table_labels, data_.classes, f.group->world_size(),
                                       f.group->rank(), config_.federated.partition, config_.federated.dirichlet_alpha, g);
    }
    f.rows = data_.split.train.numel();
  }

  // |w - anchor|^2 over the parameters.
  torch::Tensor proximal_term(const std::vector<torch::Tensor>& anchor) {
    const std::vector<torch::Tensor> params = model_->module().parameters();
    torch::Tensor total = torch::zeros({}, params.front().options());
    for (std::size_t k = 0; k < params.size(); ++k) total = total + (params[k] - anchor[k]).pow(2).sum();
    return total;
  }

  // One round: local_epochs passes over this client's shard from the global weights, then the
  // global weights become the mean of the clients' weights, weighted by their rows (McMahan et al.
  // 2017). Only the weighted parameters and the row count cross ranks.
  // With client sampling, a client sitting a round out trains nothing and adds nothing to the
  // mean: weight 0 (FedAvg), or an update of zero (DP-FedAvg). It still joins the all-reduce, which
  // every rank of a process group must; a deployment's server would not hear from it at all.
  void federated_round() {
    const FederatedConfig& c = config_.federated;
    Federation& f = *federation_;
    const bool private_clients = c.client_noise_multiplier > 0;
    const int clients = f.group != nullptr ? f.group->world_size() : 1;
    const int rank = f.group != nullptr ? f.group->rank() : 0;
    const uint64_t round = static_cast<uint64_t>(epoch_) + 1;
    const uint64_t sampling_seed = f.shared_seed + 0xc11e47ULL;
    const bool takes_part = client_takes_part(sampling_seed, round, rank, c.client_fraction);
    f.round_clients = 0;
    for (int k = 0; k < clients; ++k) f.round_clients += client_takes_part(sampling_seed, round, k, c.client_fraction);
    std::vector<torch::Tensor> anchor;
    if (c.proximal_mu > 0 || private_clients) {
      for (const torch::Tensor& p : model_->module().parameters()) anchor.push_back(p.detach().clone());
    }
    if (takes_part) {
      for (int64_t e = 0; e < c.local_epochs; ++e) train_epoch(c.proximal_mu > 0 ? &anchor : nullptr);
    } else {
      train_loss_ = NAN;
      train_accuracy_ = NAN;
    }
    std::vector<torch::Tensor> params = model_->module().parameters();
    if (private_clients) {
      private_average(params, anchor);
      if (!takes_part) f.bytes_sent = 0;
      return;
    }
    if (f.group == nullptr) return;
    const double bytes = static_cast<double>(average_weighted(params, takes_part ? static_cast<double>(f.rows) : 0.0,
                                                              [&](torch::Tensor& t) { f.group->allreduce_sum(t); }));
    f.bytes_sent = takes_part ? bytes : 0;
  }

  // DP-FedAvg (McMahan et al. 2018): each client's update, clipped to norm S, is summed over the
  // K clients; Gaussian noise of std z * S joins the sum, and the global weights move by it / K.
  // Every client takes part in every round, so each round is a Gaussian mechanism on the clients'
  // updates (sampling rate 1 in the accountant): the guarantee protects a whole client's data.
  void private_average(std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& global) {
    const FederatedConfig& c = config_.federated;
    Federation& f = *federation_;
    const double expected_clients = c.client_fraction * (f.group != nullptr ? f.group->world_size() : 1);
    // The server's noise, drawn alike on every client from the run's seed and round (rank 0 plays
    // the server; no client sees a noiseless model, though each sees the noiseless sum, as the
    // server does: there is no secure aggregation).
    const uint64_t round = static_cast<uint64_t>(epoch_) + 1;  // this one, counted from 1
    torch::Generator noise = at::detail::createCPUGenerator(f.shared_seed * 1'000'003ULL + round);
    const ClippedUpdate u = private_mean_update(params, global, c.client_clip, c.client_noise_multiplier, expected_clients, noise,
                                                [&](torch::Tensor& t) {
                                                  if (f.group != nullptr) f.group->allreduce_sum(t);
                                                });
    f.update_norm = u.norm;
    f.bytes_sent = static_cast<double>(u.bytes);
  }

  bool semi_supervised() const { return config_.algo == "semi_supervised"; }

  // data.labeled_fraction: a seeded share of the training split keeps its labels and becomes the
  // split trained on; the rest is kept apart as unlabelled (semi_supervised learns from it).
  void keep_labels() {
    const torch::Tensor train = data_.split.train;
    const int64_t n = train.numel();
    const int64_t kept = std::clamp<int64_t>(std::llround(config_.data.labeled_fraction * static_cast<double>(n)), 1, n);
    // A stream of its own, so that the choice is the same whatever the model draws.
    torch::Generator generator = at::detail::createCPUGenerator(config_.run.seed + 0x5eed1abe1ULL);
    const torch::Tensor order = torch::randperm(n, generator, torch::kInt64);
    data_.split.train = std::get<0>(train.index_select(0, order.narrow(0, 0, kept)).sort());
    unlabeled_ = std::get<0>(train.index_select(0, order.narrow(0, kept, n - kept)).sort());
  }

  // FixMatch's weak and strong copies: frames are shifted (and the strong ones cut out); vectors
  // get noise (and masking) scaled by each feature's spread over the training inputs, labelled or
  // not.
  void setup_augmentation() {
    const SemiSupervisedConfig& c = s_.semi;
    if (frame_layout_) {
      const ImageLayout layout = *frame_layout_;
      const auto shifted = [layout](const torch::Tensor& x, int64_t pad, torch::Generator& g) {
        return pad > 0 ? random_shift(x, layout, pad, shift_offsets(x.size(0), pad, g)) : x;
      };
      augmentation_.weak = [shifted, c](const torch::Tensor& x, torch::Generator& g) { return shifted(x, c.weak_shift, g); };
      augmentation_.strong = [shifted, c, layout](const torch::Tensor& x, torch::Generator& g) {
        return cutout(shifted(x, c.strong_shift, g), layout, c.cutout, 127, g);
      };
      return;
    }
    const torch::Tensor x = data_.batch(data_.split.train, torch::kCPU).inputs.to(torch::kFloat32).flatten(1);
    const VectorAugmenter noise(x.mean(0).to(device_), x.std(0, /*unbiased=*/false).to(device_));
    augmentation_.weak = [noise, c](const torch::Tensor& x, torch::Generator& g) { return noise(x, c.weak_noise, 0, g); };
    augmentation_.strong = [noise, c](const torch::Tensor& x, torch::Generator& g) {
      return noise(x, c.strong_noise, c.strong_mask, g);
    };
  }

  // What the pseudo-labels need from the labelled rows: the spread of their actions (Box), or
  // their class shares (distribution alignment); and the mean teacher's copy of the weights.
  void setup_pseudo_labels() {
    const SemiSupervisedConfig& c = s_.semi;
    const Batch labeled = data_.batch(data_.split.train, torch::kCPU);
    if (classes() == 0) {
      action_scale_ = labeled.targets.to(torch::kFloat32).flatten(1).std(0, /*unbiased=*/false).clamp_min(1e-6).to(device_);
    } else if (c.distribution_alignment) {
      const torch::Tensor counts = torch::bincount(labeled.labels.to(torch::kInt64), {}, classes()).to(torch::kFloat32);
      remedies_.alignment = DistributionAlignment(counts / counts.sum(), c.alignment_momentum);
    }
    if (classes() > 0 && c.flexible_thresholds) remedies_.thresholds = FlexibleThresholds(unlabeled_.numel(), classes());
    if (c.teacher_ema > 0) teacher_ = EmaTeacher(model_->module().parameters(), c.teacher_ema);
  }

  // Class logits, or the policy's action means, for inputs as the data gives them.
  torch::Tensor model_outputs(const torch::Tensor& inputs) {
    if (predictor_) return predictor_->forward(inputs);
    return policy_->policy_head(policy_->prepare(inputs, false));
  }

  // One epoch of FixMatch (Sohn et al. 2020): a pass over the unlabelled rows in batches of
  // mu x batch_size, each step with batch_size labelled rows drawn with replacement. Labelled rows
  // train on a weak copy with the run's loss; unlabelled rows as pseudo_label_step says.
  void iterate_semi_supervised() {
    const SemiSupervisedConfig& c = s_.semi;
    torch::Generator& g = model_->generator();
    const int64_t labeled = data_.split.train.numel(), unlabeled = unlabeled_.numel();
    const int64_t per_step = c.unlabeled_ratio * s_.batch_size;
    const torch::Tensor positions = torch::randperm(unlabeled, g, torch::kInt64);
    const torch::Tensor order = unlabeled_.index_select(0, positions);
    const OutputsOf student = [this](const torch::Tensor& x) { return model_outputs(x); };
    const OutputsOf teacher = [this](const torch::Tensor& x) {
      if (!teacher_.enabled()) return model_outputs(x);
      return teacher_.with_average([&] { return model_outputs(x); });
    };
    double loss_sum = 0, confident = 0, pseudo_score = 0;
    int64_t seen = 0, correct = 0;
    for (int64_t begin = 0; begin < unlabeled; begin += per_step) {
      const int64_t count = std::min(per_step, unlabeled - begin);
      const torch::Tensor u_rows = order.narrow(0, begin, count);
      const torch::Tensor l_rows =
          data_.split.train.index_select(0, torch::randint(0, labeled, {s_.batch_size}, g, torch::kInt64));
      Batch l = data_.batch(l_rows, device_);
      const Batch u = data_.batch(u_rows, device_);
      l.inputs = augmentation_.weak(l.inputs, g);
      const Output supervised = forward(l);
      const PseudoLabelStep step = pseudo_label_step(student, teacher, u.inputs, positions.narrow(0, begin, count), c,
                                                     augmentation_, g, remedies_, action_scale_);
      torch::Tensor loss = supervised.loss + c.unlabeled_weight * step.loss;
      if (s_.l1 > 0) loss = loss + s_.l1 * l1_norm(model_->module());
      model_->optimizer().zero_grad();
      loss.backward();
      model_->optimizer().step();
      if (teacher_.enabled()) teacher_.update();
      const double batch_loss = supervised.loss.item<double>();
      if (!std::isfinite(batch_loss)) {
        throw std::runtime_error("the training loss became " + std::to_string(batch_loss) +
                                 " (lower optimizer.learning_rate?)");
      }
      loss_sum += batch_loss * static_cast<double>(s_.batch_size);
      seen += s_.batch_size;
      if (classes() > 0) correct += supervised.predicted_class.eq(l.labels).sum().item<int64_t>();
      // A diagnostic only: the hidden labels of the unlabelled rows never reach the loss.
      const torch::Tensor keep = step.confident;
      confident += keep.sum().item<double>();
      if (classes() > 0) {
        pseudo_score += (step.targets.eq(u.labels).to(torch::kFloat32) * keep).sum().item<double>();
      } else {
        const torch::Tensor error = (step.targets - u.targets.to(step.targets.dtype()).view_as(step.targets)).abs().mean(1);
        pseudo_score += (error * keep).sum().item<double>();
      }
    }
    train_loss_ = loss_sum / static_cast<double>(std::max<int64_t>(seen, 1));
    train_accuracy_ = classes() > 0 ? static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(seen, 1)) : NAN;
    pseudo_label_fraction_ = confident / static_cast<double>(std::max<int64_t>(unlabeled, 1));
    pseudo_label_score_ = confident > 0 ? pseudo_score / confident : NAN;
  }

  bool cloning() const { return s_.task == "behaviour_cloning"; }
  int64_t classes() const { return data_.classes; }

  Output forward(const Batch& batch) {
    Output out;
    if (pretext_net_) return pretext(batch);
    if (policy_) {
      const auto& policy = policy_;
      const torch::Tensor features = policy->prepare(batch.inputs, false);
      if (classes() > 0) {
        // The policy's log-probability of the recorded action: cross-entropy on its logits.
        out.loss = -policy->evaluate(features, batch.labels).log_prob.mean();
        torch::NoGradGuard no_grad;
        out.predicted_class = policy->act(features, true, model_->generator()).action;
      } else if (s_.loss == "nll") {
        out.loss = -policy->evaluate(features, batch.targets).log_prob.mean();
        torch::NoGradGuard no_grad;
        out.prediction = policy->act(features, true, model_->generator()).action;
      } else {
        out.prediction = policy->act(features, true, model_->generator()).action;
        out.loss = regression_loss(s_.loss, out.prediction, batch.targets);
      }
      return out;
    }
    return scored(predictor_->forward(batch.inputs), batch);
  }

  // A network output scored against the batch: logits against labels, or values against targets.
  Output scored(const torch::Tensor& output, const Batch& batch) const {
    Output out;
    if (classes() > 0) {
      out.loss = torch::nn::functional::cross_entropy(output, batch.labels);
      out.predicted_class = output.argmax(1);
      out.scores = output.detach().softmax(1);
    } else {
      out.prediction = output;
      out.loss = regression_loss(s_.loss, output, batch.targets);
    }
    return out;
  }

  // A self-supervised task's prediction and loss.
  Output pretext(const Batch& batch) {
    const auto& net = pretext_net_;
    torch::Tensor prediction;
    if (s_.task == "forward_dynamics") {
      prediction = net->head(net->encode(batch.inputs), batch.actions);
    } else if (s_.task == "inverse_dynamics") {
      prediction = net->head(net->encode(batch.inputs), net->encode(batch.next_inputs));
    } else {
      // Corrupted inputs, clean targets; the corruption draws from the model's generator.
      const torch::Tensor clean = batch.targets;
      torch::Tensor corrupted;
      if (s_.task == "masked_reconstruction") {
        const torch::Tensor keep = torch::rand(clean.sizes(), model_->generator()).ge(s_.mask_fraction);
        corrupted = clean * keep.to(clean.device(), clean.scalar_type());
      } else {
        corrupted = clean + s_.noise_std * torch::randn(clean.sizes(), model_->generator()).to(clean.device());
      }
      prediction = net->head(net->encode(corrupted.reshape(batch.inputs.sizes())), torch::Tensor());
    }
    return scored(prediction, batch);
  }

  // The validation or test columns: the loss first, then the task's metrics.
  std::vector<std::string> score_names() const {
    if (classes() > 0) {
      if (data_.episodes) return {"loss", "accuracy", "f1_macro"};
      return {"loss", "accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_micro", "roc_auc"};
    }
    return {"loss", "mse", "mae", "r2"};
  }

  struct Scores {
    std::vector<double> values;
    std::string text;
    std::optional<ClassificationReport> report;
    RegressionAccumulator::Moments moments;  // regression
  };
  // Federated clients' own test rows (before_summary).
  struct ClientTestScores {
    struct Client {
      int64_t rows = 0;
      std::map<std::string, double> scores;
    };
    std::vector<Client> clients;
    std::vector<double> pooled;  // by score_names()
    int64_t rows = 0;
    std::optional<ClassificationReport> report;
  };
  std::optional<ClientTestScores> client_test_;

  // Rank 0's best.pt in every client's model; false (on every rank) when there is none.
  bool share_best_weights(Distributed& group, const std::string& best_checkpoint) {
    double has_best = 0;
    if (group.lead() && fs::exists(best_checkpoint)) {
      load_checkpoint(best_checkpoint, *model_);
      has_best = 1;
    }
    torch::Tensor flag = torch::tensor({has_best}, torch::kFloat64);
    group.broadcast(flag);
    if (flag.item<double>() == 0) return false;
    torch::NoGradGuard no_grad;
    for (torch::Tensor p : model_->module().parameters()) {
      torch::Tensor copy = p.detach().clone();
      group.broadcast(copy);
      p.detach().copy_(copy);
    }
    return true;
  }

  // The clients' rows of before_summary's table, each client's scores and the pooled ones.
  ClientTestScores pool_client_scores(const torch::Tensor& table, const std::vector<std::string>& names,
                                      int64_t pooled_at) const {
    const int64_t c = classes();
    ClientTestScores out;
    double rows = 0, weighted_loss = 0, weighted_auc = 0, auc_rows = 0;
    std::vector<std::vector<int64_t>> confusion(static_cast<std::size_t>(c), std::vector<int64_t>(static_cast<std::size_t>(c), 0));
    RegressionAccumulator pooled_regression;
    for (int64_t client = 0; client < table.size(0); ++client) {
      const torch::Tensor client_row = table[client].contiguous();
      const auto r = client_row.accessor<double, 1>();
      std::map<std::string, double> scores;
      for (std::size_t i = 0; i < names.size(); ++i) scores[names[i]] = r[static_cast<int64_t>(1 + i)];
      out.clients.push_back({static_cast<int64_t>(r[0]), scores});
      if (r[0] == 0) continue;
      rows += r[0];
      weighted_loss += r[0] * scores["loss"];
      if (scores.count("roc_auc") && std::isfinite(scores["roc_auc"])) {
        weighted_auc += r[0] * scores["roc_auc"];
        auc_rows += r[0];
      }
      if (c > 0) {
        for (int64_t t = 0; t < c; ++t) {
          for (int64_t p = 0; p < c; ++p) confusion[t][p] += std::llround(r[pooled_at + t * c + p]);
        }
      } else {
        pooled_regression.merge({std::llround(r[pooled_at]), r[pooled_at + 1], r[pooled_at + 2], r[pooled_at + 3], r[pooled_at + 4]});
      }
    }
    std::map<std::string, double> pooled{{"loss", rows > 0 ? weighted_loss / rows : NAN}};
    if (c > 0) {
      out.report = classification_report_from_confusion(confusion);
      for (const auto& [name, value] : rlforge::metric_values(*out.report)) pooled[name] = value;
      pooled["roc_auc"] = auc_rows > 0 ? weighted_auc / auc_rows : NAN;
    } else {
      for (const auto& [name, value] : rlforge::metric_values(pooled_regression.report())) pooled[name] = value;
    }
    for (const std::string& name : names) out.pooled.push_back(pooled.count(name) ? pooled[name] : NAN);
    out.rows = static_cast<int64_t>(rows);
    return out;
  }

  Scores score(const torch::Tensor& rows) {
    torch::NoGradGuard no_grad;
    torch::nn::Module& module = model_->module();
    module.eval();
    const int64_t n = rows.numel();
    double loss_sum = 0;
    std::optional<ClassificationAccumulator> classification;
    if (classes() > 0) classification.emplace(classes());
    RegressionAccumulator regression;
    // Large batches: evaluation keeps no graph.
    const int64_t batch_size = std::max<int64_t>(s_.batch_size, 1024);
    for (int64_t begin = 0; begin < n; begin += batch_size) {
      const torch::Tensor part = rows.narrow(0, begin, std::min(batch_size, n - begin));
      const Batch batch = data_.batch(part, device_);
      const Output out = forward(batch);
      loss_sum += out.loss.item<double>() * static_cast<double>(part.numel());
      if (classification) {
        const torch::Tensor labels = batch.labels.to(torch::kCPU).contiguous();
        const torch::Tensor predicted = out.predicted_class.to(torch::kCPU, torch::kInt64).contiguous();
        torch::Tensor probabilities;
        if (out.scores.defined()) probabilities = out.scores.to(torch::kCPU, torch::kFloat32).contiguous();
        classification->add(labels.data_ptr<int64_t>(), predicted.data_ptr<int64_t>(),
                            probabilities.defined() ? probabilities.data_ptr<float>() : nullptr, part.numel());
      } else {
        const torch::Tensor targets = batch.targets.to(torch::kCPU, torch::kFloat32).contiguous();
        const torch::Tensor predicted = out.prediction.to(torch::kCPU, torch::kFloat32).reshape(targets.sizes()).contiguous();
        regression.add(targets.data_ptr<float>(), predicted.data_ptr<float>(), targets.numel());
      }
    }
    module.train();
    Scores s;
    const double loss = n > 0 ? loss_sum / static_cast<double>(n) : NAN;
    std::map<std::string, double> by_name{{"loss", loss}};
    if (classification) {
      s.report = classification->report();
      for (const auto& [name, value] : rlforge::metric_values(*s.report)) by_name[name] = value;
    } else {
      for (const auto& [name, value] : rlforge::metric_values(regression.report())) by_name[name] = value;
      s.moments = regression.moments();
    }
    std::ostringstream text;
    for (const std::string& name : score_names()) {
      s.values.push_back(by_name.count(name) ? by_name[name] : NAN);
      text << (s.values.size() > 1 ? "  " : "") << name << " " << s.values.back();
    }
    s.text = text.str();
    return s;
  }

  const ExperimentConfig& config_;
  const SupervisedConfig& s_;
  torch::Device device_;
  SupervisedData data_;
  std::unique_ptr<SupervisedModel> model_;
  // Exactly one is set: a table's predictor, a cloned policy, or a pretext-task network.
  std::shared_ptr<PredictorImpl> predictor_;
  std::shared_ptr<ActorCriticImpl> policy_;
  std::shared_ptr<SelfSupervisedNetImpl> pretext_net_;
  std::optional<ImageLayout> frame_layout_;  // recorded image observations (random_shift)
  VectorEnvConfig eval_env_;
  std::optional<Privacy> privacy_;  // DP-SGD
  std::optional<Federation> federation_;  // agent.federated
  torch::Tensor unlabeled_;          // training rows without their labels (data.labeled_fraction)
  // semi_supervised: the weak and strong copies, the labelled actions' spread (Box), and the
  // remedies for confirmation bias when configured.
  Augmentation augmentation_;
  torch::Tensor action_scale_;
  PseudoLabelRemedies remedies_;
  EmaTeacher teacher_;
  // The share of unlabelled rows pseudo-labelled in the last epoch, and those labels' accuracy
  // (classes) or mean absolute error (Box actions) against the hidden labels.
  double pseudo_label_fraction_ = NAN, pseudo_label_score_ = NAN;
  int64_t epoch_ = 0;
  double train_loss_ = NAN, train_accuracy_ = NAN, learning_rate_ = NAN;
  double train_seconds_ = 0, eval_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Learner> make_supervised_learner(const ExperimentConfig& config, torch::Device device,
                                                 Distributed* distributed) {
  return std::make_unique<SupervisedLearner>(config, device, distributed);
}

}  // namespace rlforge
