#pragma once
// Unsupervised learning on observations or table rows: k-means (k-means++ seeding, Lloyd's
// iterations), a Gaussian mixture fitted by expectation-maximisation, and an MLP autoencoder.
// The algorithms work on float64 rows [N, F]; the modules hold what a checkpoint keeps (the
// standardisation of the inputs and the fitted parameters) and score raw inputs.

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "rlforge/agents/supervised.h"

namespace rlforge {

namespace clustering {

// k-means++ seeding (Arthur and Vassilvitskii 2007): the first centre is a uniformly drawn row,
// each next one a row drawn with probability proportional to its squared distance to the nearest
// centre chosen so far. Returns [k, F]. Rows must be at least k.
torch::Tensor kmeans_plus_plus(const torch::Tensor& x, int64_t k, torch::Generator& generator);

struct Assignment {
  torch::Tensor labels;        // int64 [N]: the nearest centre
  torch::Tensor sq_distances;  // float64 [N]: the squared distance to it
};
// The nearest of `centres` [k, F] for every row of `x` [N, F] (computed in blocks of rows, so that
// the N x k distances of a large N are never held at once).
Assignment nearest_centres(const torch::Tensor& x, const torch::Tensor& centres);

struct LloydStep {
  torch::Tensor centres;  // [k, F] after the step
  torch::Tensor labels;   // the assignment the step used
  double inertia = 0;     // mean squared distance to the assigned centre, before the update
  int64_t empty = 0;      // clusters that lost every row and were re-seeded
};
// One iteration of Lloyd's algorithm: assign every row to its nearest centre, move each centre to
// the mean of its rows. A cluster left without rows takes the row farthest from its centre (as
// scikit-learn does), so k clusters stay k.
LloydStep lloyd_step(const torch::Tensor& x, const torch::Tensor& centres);

struct KMeansFit {
  torch::Tensor centres, labels;
  double inertia = 0;
  int64_t iterations = 0;
  bool converged = false;
};
// k-means++ then Lloyd's iterations until no row changes cluster (or `max_iterations`).
KMeansFit kmeans(const torch::Tensor& x, int64_t k, torch::Generator& generator, int64_t max_iterations = 300);

// The mean silhouette coefficient (Rousseeuw 1987) of `labels` over the rows of `x`: per row
// s = (b - a) / max(a, b), a the mean distance to the other rows of its cluster, b the smallest mean
// distance to another cluster's rows; a row alone in its cluster scores 0. In [-1, 1]; needs at
// least two clusters among the labels. O(N^2): callers pass a sample.
double silhouette_score(const torch::Tensor& x, const torch::Tensor& labels);

// The adjusted Rand index (Hubert and Arabie 1985) between two labellings of the same rows: 1 for
// the same partition (whatever the label names), about 0 for independent ones.
double adjusted_rand_index(const torch::Tensor& a, const torch::Tensor& b);

// A Gaussian mixture of k components over F dimensions; covariances are full [k, F, F] or
// diagonal [k, F].
struct GaussianMixtureParams {
  torch::Tensor weights;      // [k], summing to 1
  torch::Tensor means;        // [k, F]
  torch::Tensor covariances;  // [k, F, F] (full) or [k, F] (diagonal)
  bool diagonal() const { return covariances.dim() == 2; }
};
// log(w_j N(x | mu_j, Sigma_j)) for every row and component: [N, k].
torch::Tensor component_log_densities(const torch::Tensor& x, const GaussianMixtureParams& g);
// log p(x) per row: [N].
torch::Tensor mixture_log_density(const torch::Tensor& x, const GaussianMixtureParams& g);

struct EmStep {
  GaussianMixtureParams params;
  double mean_log_likelihood = 0;  // of the rows under the parameters before the step
};
// One expectation-maximisation step. `reg` is added to every covariance's diagonal (as
// scikit-learn's reg_covar), which keeps a component that collapses onto a few rows invertible.
EmStep em_step(const torch::Tensor& x, const GaussianMixtureParams& g, double reg);
// The starting mixture: k-means' clusters give the responsibilities of one M-step.
GaussianMixtureParams mixture_from_clusters(const torch::Tensor& x, const torch::Tensor& labels, int64_t k,
                                            bool diagonal, double reg);
// Free parameters of a mixture (for BIC): k - 1 weights, kF means, and kF or kF(F+1)/2 covariances.
int64_t mixture_parameters(int64_t k, int64_t features, bool diagonal);
// The Bayesian information criterion -2 log L + p ln N of `x` under `g` (lower is better).
double bic(const torch::Tensor& x, const GaussianMixtureParams& g);

}  // namespace clustering

// What `agent.algo: unsupervised` fits, as a module whose buffers a checkpoint holds. Inputs are
// standardised with the training split's statistics (held in the module), so a checkpoint scores
// raw inputs; every kind assigns rows to clusters (the autoencoder: none) and scores novelty.
//   kmeans            centres [k, F]; novelty: squared distance to the nearest centre
//   gaussian_mixture  weights, means, covariances; novelty: -log p(x)
//   autoencoder       an MLP encoder to `latent` units and a mirrored decoder; novelty: mean
//                     squared reconstruction error (in standardised units)
class UnsupervisedModelImpl : public torch::nn::Module {
 public:
  UnsupervisedModelImpl(std::string kind, int64_t features, int64_t clusters, bool diagonal,
                        const PredictorConfig& network, int64_t latent);
  const std::string& kind() const { return kind_; }
  int64_t features() const { return features_; }
  int64_t clusters() const;

  void set_input_statistics(const torch::Tensor& mean, const torch::Tensor& std);
  // Raw inputs [B, ...] flattened, as float64 in standardised units [B, F].
  torch::Tensor standardise(const torch::Tensor& inputs) const;
  // Standardised rows [B, F] back to the inputs' units (float64).
  torch::Tensor unstandardise(const torch::Tensor& z) const { return z * input_std_ + input_mean_; }

  // kmeans: set or read the centres; gaussian_mixture: the mixture (standardised units).
  void set_centres(const torch::Tensor& centres);
  const torch::Tensor& centres() const { return centres_; }
  void set_mixture(const clustering::GaussianMixtureParams& g);
  clustering::GaussianMixtureParams mixture() const;

  // The autoencoder's reconstruction of standardised rows (float32 in, float32 out).
  torch::Tensor reconstruct(const torch::Tensor& standardised);

  // Cluster per raw input row, int64 [B] (the autoencoder throws std::logic_error).
  torch::Tensor assign(const torch::Tensor& inputs);
  // Novelty per raw input row, float64 [B]: higher is less like the training data.
  torch::Tensor novelty(const torch::Tensor& inputs);

 private:
  std::string kind_;
  int64_t features_ = 0;
  torch::Tensor input_mean_, input_std_;
  torch::Tensor centres_;                            // kmeans
  torch::Tensor weights_, means_, covariances_;      // gaussian_mixture
  Predictor encoder_{nullptr}, decoder_{nullptr};    // autoencoder
};
TORCH_MODULE(UnsupervisedModel);

}  // namespace rlforge
