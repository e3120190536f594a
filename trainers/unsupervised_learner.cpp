// Unsupervised learning behind the Trainer's Learner interface: k-means, a Gaussian mixture and an
// autoencoder on table rows or recorded observations. The inputs are held in memory, standardised
// with the training split's statistics. One iterate() is one Lloyd iteration, one EM step or one
// pass of minibatches; evaluation scores the validation split (inertia and silhouette, negative
// log-likelihood, reconstruction error); at the end the best checkpoint is scored on the test
// split, with a novelty threshold set on the validation rows.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "rlforge/agents/unsupervised.h"
#include "rlforge/data/errors.h"
#include "rlforge/evaluation/dataset_clusters.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/learner.h"
#include "rlforge/trainers/supervised_data.h"
#include "rlforge/trainers/trainer.h"

namespace rlforge {

namespace {

using namespace clustering;

// The inputs are held as float64; more than this is refused with a line saying so.
constexpr double kMaxInputBytes = 4.0 * (1ULL << 30);

// A generator for restart `restart` of the fit of k clusters: a sweep's fit of k and the run's fit
// of the chosen k start alike, so the run reproduces the fit that won the sweep.
torch::Generator generator_for(uint64_t seed, int64_t k, int64_t restart) {
  return at::detail::createCPUGenerator(seed * 1'000'003ULL + static_cast<uint64_t>(k) + 7'919ULL * static_cast<uint64_t>(restart));
}

// Up to `count` of `rows` rows, drawn once without replacement (int64 indices, sorted).
torch::Tensor sample_rows(int64_t rows, int64_t count, uint64_t seed) {
  if (rows <= count) return torch::arange(rows, torch::kInt64);
  torch::Generator g = at::detail::createCPUGenerator(seed);
  return std::get<0>(torch::randperm(rows, g, torch::kInt64).narrow(0, 0, count).sort());
}

double silhouette_or_nan(const torch::Tensor& x, const torch::Tensor& labels) {
  if (x.size(0) < 2 || std::get<0>(torch::_unique(labels)).numel() < 2) return NAN;
  return silhouette_score(x, labels);
}

// The `q` quantile of a float64 tensor (the value at index floor(q * (n - 1)) of the sorted values).
double sorted_quantile(const torch::Tensor& values, double q) {
  const torch::Tensor sorted = std::get<0>(values.sort());
  const auto at = static_cast<int64_t>(std::floor(q * static_cast<double>(sorted.numel() - 1)));
  return sorted[at].item<double>();
}

std::string text_of(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

class UnsupervisedLearner : public Learner {
 public:
  UnsupervisedLearner(const ExperimentConfig& config, torch::Device device)
      : config_(config), u_(config.unsupervised), kind_(config.supervised.task),
        data_(load_supervised_data(config)) {
    const int64_t rows = data_.split.train.numel() + data_.split.validation.numel() + data_.split.test.numel();
    const double bytes = static_cast<double>(rows) * static_cast<double>(data_.input_size) * 8.0;
    if (bytes > kMaxInputBytes) {
      throw DataError(source() + ": " + std::to_string(rows) + " rows of " + std::to_string(data_.input_size) +
                      " elements need " + text_of(bytes / (1ULL << 30)) +
                      " GiB as float64; unsupervised learning holds its inputs in memory (at most 4 GiB): use fewer rows");
    }
    if (data_.split.train.numel() < 2) throw DataError(source() + ": unsupervised learning needs at least 2 training rows");
    names_ = element_names();

    const torch::Tensor train = raw_inputs(data_.split.train);
    const int64_t clusters = clustering_kind() ? u_.clusters : 0;
    auto module = std::make_shared<UnsupervisedModelImpl>(kind_, data_.input_size, std::max<int64_t>(clusters, 1),
                                                          u_.covariance == "diagonal", config.supervised.network, u_.latent);
    module_ = module;
    torch::manual_seed(config.run.seed);  // the autoencoder's weights
    model_ = std::make_unique<SupervisedModel>(
        module, config.supervised.optimizer,
        [module](const torch::Tensor& inputs, bool, torch::Generator&) { return module->assign(inputs); },
        config.run.seed, device);
    module_->set_input_statistics(train.mean(0), train.std(0, /*unbiased=*/false));
    x_train_ = module_->standardise(train);
    x_validation_ = module_->standardise(raw_inputs(data_.split.validation));
    x_test_ = data_.split.test.numel() > 0 ? module_->standardise(raw_inputs(data_.split.test)) : torch::Tensor();
    silhouette_rows_ = sample_rows(x_validation_.size(0), u_.silhouette_rows, config.run.seed + 1);

    if (clustering_kind()) {
      const int64_t k = u_.clusters_sweep.empty() ? u_.clusters : sweep();
      const int64_t largest = x_train_.size(0);
      if (k > largest) {
        throw ConfigError(source() + ": agent.clusters: " + std::to_string(k) + " clusters for " +
                          std::to_string(largest) + " training rows");
      }
      start(k);
    }
  }

  Agent& agent() override { return *model_; }
  std::string step_unit() const override { return "epoch"; }
  int64_t steps() const override { return epoch_; }

  void iterate() override {
    const auto begin = std::chrono::steady_clock::now();
    if (kind_ == "kmeans") {
      const LloydStep s = lloyd_step(x_train_, module_->centres());
      centre_shift_ = (s.centres - module_->centres()).abs().max().item<double>();
      module_->set_centres(s.centres);
      train_score_ = s.inertia;
      empty_clusters_ = s.empty;
    } else if (kind_ == "gaussian_mixture") {
      EmStep s;
      try {
        s = em_step(x_train_, module_->mixture(), u_.covariance_reg);
      } catch (const c10::Error&) {
        throw std::runtime_error("a component's covariance is no longer positive definite (raise agent.covariance_reg)");
      }
      gain_ = epoch_ > 0 ? s.mean_log_likelihood - train_score_ : NAN;
      train_score_ = s.mean_log_likelihood;
      module_->set_mixture(s.params);
    } else {
      train_autoencoder_epoch();
    }
    if (!std::isfinite(train_score_)) {
      throw std::runtime_error("the training " + headline().first + " became " + text_of(train_score_));
    }
    ++epoch_;
    train_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  }

  std::string converged() const override {
    if (kind_ == "kmeans" && epoch_ > 0 && centre_shift_ == 0 && empty_clusters_ == 0) {
      return "k-means converged at epoch " + std::to_string(epoch_) + ": no row changed cluster";
    }
    if (kind_ == "gaussian_mixture" && std::isfinite(gain_) && gain_ < u_.tolerance) {
      return "EM converged at epoch " + std::to_string(epoch_) + ": the mean log-likelihood rose by " + text_of(gain_) +
             " < agent.tolerance " + text_of(u_.tolerance);
    }
    return {};
  }

  std::vector<Column> metric_columns() const override {
    if (kind_ == "kmeans") {
      return {{"train_inertia", "train/inertia"}, {"centre_shift", "train/centre_shift"}, {"empty_clusters", ""}};
    }
    if (kind_ == "gaussian_mixture") return {{"train_log_likelihood", "train/log_likelihood"}, {"gain", "train/gain"}};
    return {{"train_loss", "train/loss"}};
  }
  std::vector<double> metric_values() const override {
    if (kind_ == "kmeans") return {train_score_, centre_shift_, static_cast<double>(empty_clusters_)};
    if (kind_ == "gaussian_mixture") return {train_score_, gain_};
    return {train_score_};
  }
  std::pair<std::string, double> headline() const override {
    if (kind_ == "kmeans") return {"inertia", train_score_};
    if (kind_ == "gaussian_mixture") return {"log_likelihood", train_score_};
    return {"loss", train_score_};
  }

  std::vector<Column> eval_columns() const override {
    if (kind_ == "kmeans") return {{"inertia", "validation/inertia"}, {"silhouette", "validation/silhouette"}};
    if (kind_ == "gaussian_mixture") return {{"nll", "validation/nll"}};
    return {{"loss", "validation/loss"}};
  }
  std::pair<std::string, bool> score_column() const override { return {eval_columns().front().name, true}; }

  Evaluation evaluate(bool /*final*/) override {
    const auto begin = std::chrono::steady_clock::now();
    Evaluation e;
    const Scores s = score(x_validation_, silhouette_rows_);
    e.values = s.values;
    e.score = -s.values.front();
    e.text = "validation " + s.text;
    eval_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return e;
  }

  std::vector<std::string> state_names() const override { return {"generator", "learner"}; }
  void save_state(std::map<std::string, torch::Tensor>& extras, const std::string&) override {
    extras["generator"] = model_->generator().get_state();
    YAML::Node n;
    n["train_score"] = train_score_;
    n["centre_shift"] = centre_shift_;
    n["empty_clusters"] = empty_clusters_;
    n["gain"] = gain_;
    extras["learner"] = yaml_tensor(n);
  }
  void restore_state(const std::map<std::string, torch::Tensor>& extras, int64_t steps, const std::string&,
                     std::ostream&) override {
    model_->generator().set_state(extras.at("generator"));
    const YAML::Node n = YAML::Load(tensor_text(extras.at("learner")));
    train_score_ = n["train_score"].as<double>();
    centre_shift_ = n["centre_shift"].as<double>();
    empty_clusters_ = n["empty_clusters"].as<int64_t>();
    gain_ = n["gain"].as<double>();
    epoch_ = steps;
  }

  std::vector<std::pair<std::string, double>> time_seconds() const override {
    return {{"sweep", sweep_seconds_}, {"training", train_seconds_}, {"evaluation", eval_seconds_}};
  }

  void finish(YAML::Node& summary, const std::string& best_checkpoint, std::ostream& log) override {
    summary["data"]["train"] = data_.split.train.numel();
    summary["data"]["validation"] = data_.split.validation.numel();
    summary["data"]["test"] = data_.split.test.numel();
    summary["data"]["unit"] = data_.episodes ? "steps (split by episode)" : "rows";
    YAML::Node u = summary["unsupervised"];
    u["kind"] = kind_;
    if (clustering_kind()) {
      const std::string why = converged();
      u["converged"] = why.empty() ? "no: trainer.epochs ran out first" : why;
    }
    if (!sweep_.empty()) {
      for (const SweepPoint& p : sweep_) {
        YAML::Node row;
        row["clusters"] = p.k;
        row[sweep_metric()] = p.score;
        u["sweep"].push_back(row);
      }
      u["sweep_chosen"] = chosen_;
      u["sweep_criterion"] = kind_ == "kmeans" ? "highest silhouette of validation rows" : "lowest BIC on the training rows";
    }
    if (std::filesystem::exists(best_checkpoint)) load_checkpoint(best_checkpoint, *model_);

    // Novelty: the alarm at the 95th percentile of the validation rows' scores.
    const double threshold = sorted_quantile(module_->novelty(unstandardise(x_validation_)), 0.95);
    u["novelty"]["measure"] = kind_ == "kmeans"             ? "squared distance to the nearest centre (standardised units)"
                              : kind_ == "gaussian_mixture" ? "negative log-density (standardised units)"
                                                            : "mean squared reconstruction error (standardised units)";
    u["novelty"]["threshold"] = threshold;
    u["novelty"]["threshold_rule"] = "95th percentile of the validation rows";

    if (clustering_kind()) describe_clusters(u);
    if (kind_ == "gaussian_mixture") u["bic"] = bic(x_train_, module_->mixture());

    if (!x_test_.defined()) return;
    const torch::Tensor test_sample = sample_rows(x_test_.size(0), u_.silhouette_rows, config_.run.seed + 2);
    const Scores s = score(x_test_, test_sample);
    const std::vector<Column> columns = eval_columns();
    for (std::size_t i = 0; i < columns.size(); ++i) summary["test"][columns[i].name] = s.values[i];
    const torch::Tensor novelty = module_->novelty(unstandardise(x_test_));
    summary["test"]["novelty_alarm_rate"] = novelty.gt(threshold).to(torch::kFloat64).mean().item<double>();
    std::string text = s.text;
    if (clustering_kind() && data_.table_labels.defined()) {
      // How well the clusters recover the table's classes, which they never saw.
      const double ari = adjusted_rand_index(module_->assign(unstandardise(x_test_)),
                                             data_.table_labels.index_select(0, data_.split.test));
      summary["test"]["adjusted_rand_index"] = ari;
      text += ", adjusted Rand index against the labels " + text_of(ari);
    }
    log << "test (best checkpoint): " << text << std::endl;
  }

  CurveSpec curve(const std::string& title) const override {
    const std::string train = metric_columns().front().name, validation = eval_columns().front().name;
    const std::string y = kind_ == "kmeans"             ? "inertia (mean squared distance, standardised)"
                          : kind_ == "gaussian_mixture" ? "log-likelihood per row (validation: its negative)"
                                                        : "reconstruction loss (" + loss_name() + ")";
    return {title, "epoch", "epoch", y, {{"metrics.csv", train, "training", false}, {"eval.csv", validation, "validation", true}}};
  }

 private:
  struct Scores {
    std::vector<double> values;  // in the order of eval_columns()
    std::string text;
  };
  struct SweepPoint {
    int64_t k = 0;
    double score = 0;
  };

  bool clustering_kind() const { return kind_ == "kmeans" || kind_ == "gaussian_mixture"; }
  std::string source() const { return config_.source.empty() ? std::string("config") : config_.source; }
  std::string sweep_metric() const { return kind_ == "kmeans" ? "silhouette" : "bic"; }
  std::string loss_name() const { return config_.supervised.loss.empty() ? "mse" : config_.supervised.loss; }

  std::vector<std::string> element_names() const {
    if (!data_.feature_names.empty()) return data_.feature_names;
    if (data_.episodes) return recorded_observation_names(*data_.episodes);
    std::vector<std::string> names;
    for (int64_t i = 0; i < data_.input_size; ++i) names.push_back("x" + std::to_string(i));
    return names;
  }

  torch::Tensor raw_inputs(const torch::Tensor& rows) const {
    return data_.batch(rows, torch::kCPU).inputs.reshape({rows.numel(), -1}).to(torch::kFloat64);
  }
  // Standardised rows back to raw units, for the module's own scoring of raw inputs.
  torch::Tensor unstandardise(const torch::Tensor& z) const { return module_->unstandardise(z); }

  // Fits every k of the sweep as the run would and keeps the best.
  int64_t sweep() {
    const auto begin = std::chrono::steady_clock::now();
    const torch::Tensor sample = x_validation_.index_select(0, silhouette_rows_);
    for (const int64_t k : u_.clusters_sweep) {
      if (k > x_train_.size(0)) break;
      const Start& s = best_start(k);
      SweepPoint p{k, NAN};
      if (kind_ == "kmeans") {
        p.score = silhouette_or_nan(sample, nearest_centres(sample, s.fit.centres).labels);
      } else {
        p.score = bic(x_train_, s.mixture);
      }
      sweep_.push_back(p);
    }
    const auto best = std::max_element(sweep_.begin(), sweep_.end(), [&](const SweepPoint& a, const SweepPoint& b) {
      // NaN (a k whose clusters could not be scored) never wins.
      const double sa = kind_ == "kmeans" ? a.score : -a.score, sb = kind_ == "kmeans" ? b.score : -b.score;
      return std::isnan(sa) || (!std::isnan(sb) && sa < sb);
    });
    if (best == sweep_.end() || std::isnan(best->score)) {
      throw ConfigError(source() + ": agent.clusters_sweep: no k could be scored on these rows");
    }
    chosen_ = best->k;
    sweep_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return chosen_;
  }

  bool diagonal() const { return u_.covariance == "diagonal"; }

  // EM from `g` until it converges as the run's would (or 100 steps): the sweep's mixture fit.
  GaussianMixtureParams fit_mixture(GaussianMixtureParams g) const {
    double previous = NAN;
    for (int i = 0; i < 100; ++i) {
      EmStep s = em_step(x_train_, g, u_.covariance_reg);
      g = s.params;
      if (std::isfinite(previous) && s.mean_log_likelihood - previous < u_.tolerance) break;
      previous = s.mean_log_likelihood;
    }
    return g;
  }

  // The best of agent.n_init fits of k clusters, each from its own k-means++ seeding: the lowest
  // inertia (k-means) or the highest log-likelihood after EM from the k-means clusters (mixture).
  struct Start {
    int64_t restart = 0;
    KMeansFit fit;
    GaussianMixtureParams mixture;  // fitted to convergence (mixture only)
    double objective = INFINITY;    // lower is better
  };
  const Start& best_start(int64_t k) {
    if (const auto found = starts_.find(k); found != starts_.end()) return found->second;
    Start best;
    for (int64_t r = 0; r < u_.n_init; ++r) {
      torch::Generator g = generator_for(config_.run.seed, k, r);
      Start s;
      s.restart = r;
      s.fit = kmeans(x_train_, k, g);
      s.objective = s.fit.inertia;
      if (kind_ == "gaussian_mixture") {
        s.mixture = fit_mixture(mixture_from_clusters(x_train_, s.fit.labels, k, diagonal(), u_.covariance_reg));
        s.objective = -mixture_log_density(x_train_, s.mixture).mean().item<double>();
      }
      if (s.objective < best.objective || r == 0) best = s;
    }
    return starts_[k] = best;
  }

  // The run's starting point for k clusters, from the best restart: its k-means++ centres
  // (k-means, whose epochs then replay that fit), or its k-means clusters as responsibilities
  // (the mixture, as scikit-learn starts EM).
  void start(int64_t k) {
    // One seeding and no sweep: nothing to compare, so no fit to run first.
    const bool only = u_.n_init == 1 && starts_.find(k) == starts_.end();
    if (kind_ == "kmeans") {
      torch::Generator g = generator_for(config_.run.seed, k, only ? 0 : best_start(k).restart);
      module_->set_centres(kmeans_plus_plus(x_train_, k, g));
    } else {
      torch::Generator g = generator_for(config_.run.seed, k, 0);
      const torch::Tensor labels = only ? kmeans(x_train_, k, g).labels : best_start(k).fit.labels;
      module_->set_mixture(mixture_from_clusters(x_train_, labels, k, diagonal(), u_.covariance_reg));
    }
    starts_.clear();
  }

  void train_autoencoder_epoch() {
    namespace F = torch::nn::functional;
    module_->train();
    const int64_t n = x_train_.size(0), batch_size = config_.supervised.batch_size;
    const torch::Tensor order = torch::randperm(n, model_->generator(), torch::kInt64);
    const torch::Tensor x = x_train_.to(torch::kFloat32);
    double loss_sum = 0;
    for (int64_t begin = 0; begin < n; begin += batch_size) {
      const torch::Tensor xb = x.index_select(0, order.narrow(0, begin, std::min(batch_size, n - begin)));
      const torch::Tensor loss = reconstruction_loss(module_->reconstruct(xb), xb);
      model_->optimizer().zero_grad();
      loss.backward();
      model_->optimizer().step();
      loss_sum += loss.item<double>() * static_cast<double>(xb.size(0));
    }
    module_->eval();
    train_score_ = loss_sum / static_cast<double>(n);
  }

  torch::Tensor reconstruction_loss(const torch::Tensor& prediction, const torch::Tensor& target) const {
    namespace F = torch::nn::functional;
    const std::string loss = loss_name();
    if (loss == "mae") return F::l1_loss(prediction, target);
    if (loss == "huber") return F::smooth_l1_loss(prediction, target);
    return F::mse_loss(prediction, target);
  }

  // The evaluation figures of standardised rows `z` (the silhouette on the rows `sample`).
  Scores score(const torch::Tensor& z, const torch::Tensor& sample) {
    torch::NoGradGuard no_grad;
    Scores s;
    std::ostringstream text;
    if (kind_ == "kmeans") {
      const double inertia = nearest_centres(z, module_->centres()).sq_distances.mean().item<double>();
      const torch::Tensor rows = z.index_select(0, sample);
      const double silhouette = silhouette_or_nan(rows, nearest_centres(rows, module_->centres()).labels);
      s.values = {inertia, silhouette};
      text << "inertia " << inertia << ", silhouette " << silhouette << " (" << module_->clusters() << " clusters)";
    } else if (kind_ == "gaussian_mixture") {
      const double nll = -mixture_log_density(z, module_->mixture()).mean().item<double>();
      s.values = {nll};
      text << "nll " << nll << " per row (" << module_->clusters() << " components)";
    } else {
      const torch::Tensor x = z.to(torch::kFloat32);
      const double loss = reconstruction_loss(module_->reconstruct(x), x).item<double>();
      s.values = {loss};
      text << "loss " << loss << " (" << loss_name() << ")";
    }
    s.text = text.str();
    return s;
  }

  // Each cluster's share of the training rows and its centre (k-means) or mean (mixture) in the
  // inputs' own units, by element name.
  void describe_clusters(YAML::Node& u) {
    const int64_t k = module_->clusters();
    u["clusters"] = k;
    const torch::Tensor labels = module_->assign(unstandardise(x_train_));
    const torch::Tensor counts = torch::bincount(labels, {}, k);
    const torch::Tensor centres = unstandardise(kind_ == "kmeans" ? module_->centres() : module_->mixture().means);
    for (int64_t j = 0; j < k; ++j) {
      YAML::Node c;
      c["cluster"] = j;
      c["rows"] = counts[j].item<int64_t>();
      c["share"] = counts[j].item<double>() / static_cast<double>(labels.numel());
      if (kind_ == "gaussian_mixture") c["weight"] = module_->mixture().weights[j].item<double>();
      YAML::Node centre;
      for (int64_t i = 0; i < centres.size(1); ++i) centre[names_[static_cast<std::size_t>(i)]] = centres[j][i].item<double>();
      c["centre"] = centre;
      u["cluster_summary"].push_back(c);
    }
  }

  ExperimentConfig config_;
  UnsupervisedConfig u_;
  std::string kind_;
  SupervisedData data_;
  std::vector<std::string> names_;
  std::shared_ptr<UnsupervisedModelImpl> module_;
  std::unique_ptr<SupervisedModel> model_;
  torch::Tensor x_train_, x_validation_, x_test_;  // standardised float64 rows
  torch::Tensor silhouette_rows_;                  // validation rows the silhouette uses
  std::vector<SweepPoint> sweep_;
  std::map<int64_t, Start> starts_;  // by k, while the run chooses its start
  int64_t chosen_ = 0;
  int64_t epoch_ = 0;
  double train_score_ = NAN, centre_shift_ = NAN, gain_ = NAN;
  int64_t empty_clusters_ = 0;
  double sweep_seconds_ = 0, train_seconds_ = 0, eval_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Learner> make_unsupervised_learner(const ExperimentConfig& config, torch::Device device) {
  return std::make_unique<UnsupervisedLearner>(config, device);
}

}  // namespace rlforge
