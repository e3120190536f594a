#include "rlforge/agents/unsupervised.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace rlforge {

namespace clustering {

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// Rows per block when distances to the centres are formed: 16,384 x k doubles at a time.
constexpr int64_t kBlockRows = 16'384;

torch::Tensor squared_distances(const torch::Tensor& x, const torch::Tensor& centres) {
  const torch::Tensor d = x.pow(2).sum(1, true) - 2 * torch::mm(x, centres.t()) + centres.pow(2).sum(1).unsqueeze(0);
  return d.clamp_min(0);
}

void check_rows(const torch::Tensor& x, const char* what) {
  if (x.dim() != 2 || x.scalar_type() != torch::kFloat64) {
    throw std::invalid_argument(std::string(what) + " takes float64 rows [N, F]");
  }
}

// The M-step of EM from responsibilities [N, k] (a one-hot matrix for hard clusters).
GaussianMixtureParams maximisation(const torch::Tensor& x, const torch::Tensor& resp, bool diagonal, double reg) {
  const int64_t n = x.size(0), f = x.size(1), k = resp.size(1);
  // A component's weight never reaches 0 exactly (scikit-learn adds 10 machine epsilons alike).
  const torch::Tensor nk = resp.sum(0) + 10 * std::numeric_limits<double>::epsilon();
  GaussianMixtureParams g;
  g.weights = nk / static_cast<double>(n);
  g.means = torch::mm(resp.t(), x) / nk.unsqueeze(1);
  if (diagonal) {
    g.covariances = torch::empty({k, f}, kF64);
  } else {
    g.covariances = torch::empty({k, f, f}, kF64);
  }
  const torch::Tensor eye = torch::eye(f, kF64);
  for (int64_t j = 0; j < k; ++j) {
    const torch::Tensor diff = x - g.means[j];
    const torch::Tensor r = resp.select(1, j).unsqueeze(1);
    if (diagonal) {
      g.covariances[j] = (r * diff.pow(2)).sum(0) / nk[j] + reg;
    } else {
      g.covariances[j] = torch::mm((r * diff).t(), diff) / nk[j] + reg * eye;
    }
  }
  g.weights = g.weights / g.weights.sum();
  return g;
}

}  // namespace

torch::Tensor kmeans_plus_plus(const torch::Tensor& x, int64_t k, torch::Generator& generator) {
  check_rows(x, "k-means++");
  const int64_t n = x.size(0);
  if (k < 1 || k > n) {
    throw std::invalid_argument("k-means needs 1 <= k <= rows, got k = " + std::to_string(k) + " for " +
                                std::to_string(n) + " rows");
  }
  torch::Tensor centres = torch::empty({k, x.size(1)}, kF64);
  const int64_t first = torch::randint(n, {1}, generator, torch::kInt64).item<int64_t>();
  centres[0] = x[first];
  torch::Tensor nearest = squared_distances(x, centres.narrow(0, 0, 1)).squeeze(1);
  for (int64_t i = 1; i < k; ++i) {
    const double total = nearest.sum().item<double>();
    // Every row already sits on a centre: any row will do.
    const int64_t next = total > 0 ? torch::multinomial(nearest, 1, false, generator).item<int64_t>()
                                   : torch::randint(n, {1}, generator, torch::kInt64).item<int64_t>();
    centres[i] = x[next];
    nearest = torch::minimum(nearest, squared_distances(x, centres.narrow(0, i, 1)).squeeze(1));
  }
  return centres;
}

Assignment nearest_centres(const torch::Tensor& x, const torch::Tensor& centres) {
  check_rows(x, "nearest_centres");
  const int64_t n = x.size(0);
  Assignment a;
  a.labels = torch::empty({n}, torch::kInt64);
  a.sq_distances = torch::empty({n}, kF64);
  for (int64_t begin = 0; begin < n; begin += kBlockRows) {
    const int64_t rows = std::min(kBlockRows, n - begin);
    const auto [d, label] = squared_distances(x.narrow(0, begin, rows), centres).min(1);
    a.labels.narrow(0, begin, rows).copy_(label);
    a.sq_distances.narrow(0, begin, rows).copy_(d);
  }
  return a;
}

LloydStep lloyd_step(const torch::Tensor& x, const torch::Tensor& centres) {
  const int64_t k = centres.size(0);
  Assignment a = nearest_centres(x, centres);
  LloydStep s;
  s.labels = a.labels;
  s.inertia = a.sq_distances.mean().item<double>();
  const torch::Tensor sums = torch::zeros_like(centres).index_add_(0, a.labels, x);
  const torch::Tensor counts = torch::bincount(a.labels, {}, k).to(torch::kFloat64);
  s.centres = centres.clone();
  torch::Tensor far = a.sq_distances.clone();
  for (int64_t j = 0; j < k; ++j) {
    const double count = counts[j].item<double>();
    if (count > 0) {
      s.centres[j] = sums[j] / count;
    } else {
      const int64_t row = far.argmax().item<int64_t>();
      s.centres[j] = x[row];
      far[row] = -1.0;  // the next empty cluster takes another row
      ++s.empty;
    }
  }
  return s;
}

KMeansFit kmeans(const torch::Tensor& x, int64_t k, torch::Generator& generator, int64_t max_iterations) {
  KMeansFit fit;
  fit.centres = kmeans_plus_plus(x, k, generator);
  torch::Tensor previous;
  for (fit.iterations = 0; fit.iterations < max_iterations;) {
    LloydStep s = lloyd_step(x, fit.centres);
    ++fit.iterations;
    // The same assignment twice gives the same means: the centres no longer move.
    const bool same = previous.defined() && s.empty == 0 && torch::equal(previous, s.labels);
    fit.centres = s.centres;
    previous = s.labels;
    if (same) {
      fit.converged = true;
      break;
    }
  }
  const Assignment a = nearest_centres(x, fit.centres);
  fit.labels = a.labels;
  fit.inertia = a.sq_distances.mean().item<double>();
  return fit;
}

double silhouette_score(const torch::Tensor& x, const torch::Tensor& labels) {
  check_rows(x, "silhouette_score");
  const int64_t n = x.size(0);
  if (labels.numel() != n) throw std::invalid_argument("silhouette_score: one label per row");
  const auto [unique, inverse] = torch::_unique(labels, /*sorted=*/true, /*return_inverse=*/true);
  const int64_t k = unique.numel();
  if (k < 2) throw std::invalid_argument("the silhouette needs at least two clusters, got " + std::to_string(k));
  const torch::Tensor distances = torch::cdist(x, x);
  const torch::Tensor onehot = torch::one_hot(inverse, k).to(torch::kFloat64);
  const torch::Tensor sums = torch::mm(distances, onehot);  // [N, k]: distances to each cluster's rows
  const torch::Tensor counts = onehot.sum(0);               // [k]
  const torch::Tensor own_count = counts.index_select(0, inverse);
  const torch::Tensor own_sum = sums.gather(1, inverse.unsqueeze(1)).squeeze(1);
  // The row itself is at distance 0 and not one of the others.
  const torch::Tensor a = own_sum / (own_count - 1).clamp_min(1);
  const torch::Tensor mean_to = sums / counts.unsqueeze(0);
  const torch::Tensor b = mean_to.masked_fill(onehot.to(torch::kBool), std::numeric_limits<double>::infinity()).amin(1);
  torch::Tensor s = (b - a) / torch::maximum(a, b).clamp_min(std::numeric_limits<double>::min());
  s = torch::where(own_count > 1, s, torch::zeros_like(s));
  return s.mean().item<double>();
}

double adjusted_rand_index(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() != b.numel()) throw std::invalid_argument("adjusted_rand_index: labellings of different lengths");
  const int64_t n = a.numel();
  const auto ia = std::get<1>(torch::_unique(a.flatten().to(torch::kInt64), true, true));
  const auto ib = std::get<1>(torch::_unique(b.flatten().to(torch::kInt64), true, true));
  const int64_t ka = ia.max().item<int64_t>() + 1, kb = ib.max().item<int64_t>() + 1;
  const torch::Tensor table = torch::bincount(ia * kb + ib, {}, ka * kb).to(torch::kFloat64).reshape({ka, kb});
  auto pairs = [](const torch::Tensor& c) { return (c * (c - 1) / 2).sum().item<double>(); };
  const double index = pairs(table);
  const double rows = pairs(table.sum(1)), cols = pairs(table.sum(0));
  const double all = static_cast<double>(n) * static_cast<double>(n - 1) / 2;
  const double expected = all > 0 ? rows * cols / all : 0;
  const double maximum = (rows + cols) / 2;
  // Both partitions trivial (one cluster each, or every row alone): they agree.
  if (maximum == expected) return 1.0;
  return (index - expected) / (maximum - expected);
}

torch::Tensor component_log_densities(const torch::Tensor& x, const GaussianMixtureParams& g) {
  check_rows(x, "component_log_densities");
  const int64_t n = x.size(0), f = x.size(1), k = g.weights.numel();
  const double log_2pi = std::log(2 * M_PI);
  torch::Tensor out = torch::empty({n, k}, kF64);
  for (int64_t j = 0; j < k; ++j) {
    const torch::Tensor diff = x - g.means[j];
    torch::Tensor mahalanobis, log_det;
    if (g.diagonal()) {
      const torch::Tensor var = g.covariances[j];
      mahalanobis = (diff.pow(2) / var).sum(1);
      log_det = var.log().sum();
    } else {
      const torch::Tensor l = torch::linalg_cholesky(g.covariances[j]);
      const torch::Tensor z = torch::linalg_solve_triangular(l, diff.t(), /*upper=*/false);
      mahalanobis = z.pow(2).sum(0);
      log_det = 2 * l.diagonal().log().sum();
    }
    out.select(1, j).copy_(g.weights[j].log() - 0.5 * (static_cast<double>(f) * log_2pi + log_det + mahalanobis));
  }
  return out;
}

torch::Tensor mixture_log_density(const torch::Tensor& x, const GaussianMixtureParams& g) {
  return torch::logsumexp(component_log_densities(x, g), 1);
}

EmStep em_step(const torch::Tensor& x, const GaussianMixtureParams& g, double reg) {
  const torch::Tensor log_joint = component_log_densities(x, g);
  const torch::Tensor log_density = torch::logsumexp(log_joint, 1, true);
  EmStep s;
  s.mean_log_likelihood = log_density.mean().item<double>();
  s.params = maximisation(x, (log_joint - log_density).exp(), g.diagonal(), reg);
  return s;
}

GaussianMixtureParams mixture_from_clusters(const torch::Tensor& x, const torch::Tensor& labels, int64_t k,
                                            bool diagonal, double reg) {
  check_rows(x, "mixture_from_clusters");
  return maximisation(x, torch::one_hot(labels, k).to(torch::kFloat64), diagonal, reg);
}

int64_t mixture_parameters(int64_t k, int64_t features, bool diagonal) {
  const int64_t covariance = diagonal ? features : features * (features + 1) / 2;
  return (k - 1) + k * features + k * covariance;
}

double bic(const torch::Tensor& x, const GaussianMixtureParams& g) {
  const double log_likelihood = mixture_log_density(x, g).sum().item<double>();
  const int64_t p = mixture_parameters(g.weights.numel(), x.size(1), g.diagonal());
  return -2 * log_likelihood + static_cast<double>(p) * std::log(static_cast<double>(x.size(0)));
}

}  // namespace clustering

UnsupervisedModelImpl::UnsupervisedModelImpl(std::string kind, int64_t features, int64_t clusters, bool diagonal,
                                             const PredictorConfig& network, int64_t latent)
    : kind_(std::move(kind)), features_(features) {
  if (features < 1) throw std::invalid_argument("an unsupervised model needs at least one input element");
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  input_mean_ = register_buffer("input_mean", torch::zeros({features}, f64));
  input_std_ = register_buffer("input_std", torch::ones({features}, f64));
  if (kind_ == "kmeans" || kind_ == "gaussian_mixture") {
    if (clusters < 1) throw std::invalid_argument(kind_ + " needs at least one cluster");
  }
  if (kind_ == "kmeans") {
    centres_ = register_buffer("centres", torch::zeros({clusters, features}, f64));
  } else if (kind_ == "gaussian_mixture") {
    weights_ = register_buffer("weights", torch::full({clusters}, 1.0 / static_cast<double>(clusters), f64));
    means_ = register_buffer("means", torch::zeros({clusters, features}, f64));
    covariances_ = register_buffer(
        "covariances", diagonal ? torch::ones({clusters, features}, f64)
                                : torch::eye(features, f64).unsqueeze(0).repeat({clusters, 1, 1}));
  } else if (kind_ == "autoencoder") {
    if (latent < 1) throw std::invalid_argument("an autoencoder needs a latent size of at least 1");
    encoder_ = register_module("encoder", Predictor(features, latent, network));
    PredictorConfig mirrored = network;
    mirrored.mlp.hidden.assign(network.mlp.hidden.rbegin(), network.mlp.hidden.rend());
    decoder_ = register_module("decoder", Predictor(latent, features, mirrored));
  } else {
    throw std::invalid_argument("unknown unsupervised kind '" + kind_ + "'; valid: kmeans, gaussian_mixture, autoencoder");
  }
}

int64_t UnsupervisedModelImpl::clusters() const {
  if (kind_ == "kmeans") return centres_.size(0);
  if (kind_ == "gaussian_mixture") return weights_.size(0);
  return 0;
}

void UnsupervisedModelImpl::set_input_statistics(const torch::Tensor& mean, const torch::Tensor& std) {
  torch::NoGradGuard no_grad;
  input_mean_.copy_(mean.to(torch::kFloat64));
  // An element that never varies is left in its own units (centred) rather than divided by 0.
  const torch::Tensor s = std.to(torch::kFloat64);
  input_std_.copy_(torch::where(s > 1e-8, s, torch::ones_like(s)));
}

torch::Tensor UnsupervisedModelImpl::standardise(const torch::Tensor& inputs) const {
  const torch::Tensor x = inputs.reshape({inputs.size(0), -1}).to(input_mean_.device(), torch::kFloat64);
  if (x.size(1) != features_) {
    throw std::invalid_argument("inputs of " + std::to_string(x.size(1)) + " elements for a model of " +
                                std::to_string(features_));
  }
  return (x - input_mean_) / input_std_;
}

void UnsupervisedModelImpl::set_centres(const torch::Tensor& centres) {
  torch::NoGradGuard no_grad;
  // Checkpoints and sweeps may change k: the buffer takes the new shape.
  centres_.set_(centres.to(torch::kFloat64).contiguous().clone());
}

void UnsupervisedModelImpl::set_mixture(const clustering::GaussianMixtureParams& g) {
  torch::NoGradGuard no_grad;
  weights_.set_(g.weights.to(torch::kFloat64).contiguous().clone());
  means_.set_(g.means.to(torch::kFloat64).contiguous().clone());
  covariances_.set_(g.covariances.to(torch::kFloat64).contiguous().clone());
}

clustering::GaussianMixtureParams UnsupervisedModelImpl::mixture() const {
  return {weights_, means_, covariances_};
}

torch::Tensor UnsupervisedModelImpl::reconstruct(const torch::Tensor& standardised) {
  if (kind_ != "autoencoder") throw std::logic_error(kind_ + " does not reconstruct its inputs");
  return decoder_->forward(encoder_->forward(standardised.to(torch::kFloat32)));
}

torch::Tensor UnsupervisedModelImpl::assign(const torch::Tensor& inputs) {
  torch::NoGradGuard no_grad;
  const torch::Tensor z = standardise(inputs);
  if (kind_ == "kmeans") return clustering::nearest_centres(z, centres_).labels;
  if (kind_ == "gaussian_mixture") return clustering::component_log_densities(z, mixture()).argmax(1);
  throw std::logic_error("an autoencoder does not assign clusters");
}

torch::Tensor UnsupervisedModelImpl::novelty(const torch::Tensor& inputs) {
  torch::NoGradGuard no_grad;
  const torch::Tensor z = standardise(inputs);
  if (kind_ == "kmeans") return clustering::nearest_centres(z, centres_).sq_distances;
  if (kind_ == "gaussian_mixture") return -clustering::mixture_log_density(z, mixture());
  const torch::Tensor x = z.to(torch::kFloat32);
  return (reconstruct(x) - x).pow(2).mean(1).to(torch::kFloat64);
}

}  // namespace rlforge
