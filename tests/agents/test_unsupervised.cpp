// k-means, the silhouette, the adjusted Rand index and the Gaussian mixture against hand-computed
// cases; the unsupervised module's checkpoint round trip.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "rlforge/agents/unsupervised.h"

using namespace rlforge;
using namespace rlforge::clustering;

namespace {

torch::Tensor rows(std::vector<std::vector<double>> values) {
  const auto n = static_cast<int64_t>(values.size()), f = static_cast<int64_t>(values.front().size());
  torch::Tensor x = torch::empty({n, f}, torch::kFloat64);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < f; ++j) x[i][j] = values[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  }
  return x;
}

torch::Tensor labels(std::vector<int64_t> values) { return torch::tensor(values, torch::kInt64); }

// Three blobs of 50 rows around (0, 0), (10, 0) and (0, 10), spread 0.5.
torch::Tensor three_blobs(torch::Tensor* truth = nullptr) {
  torch::Generator g = at::detail::createCPUGenerator(7);
  const torch::Tensor centres = rows({{0, 0}, {10, 0}, {0, 10}});
  const torch::Tensor which = torch::arange(150, torch::kInt64).floor_divide(50);
  if (truth != nullptr) *truth = which;
  return centres.index_select(0, which) + 0.5 * torch::randn({150, 2}, g, torch::kFloat64);
}

}  // namespace

TEST_CASE("a Lloyd step assigns each row to its nearest centre and moves the centres to the means", "[unsupervised]") {
  const torch::Tensor x = rows({{0, 0}, {0, 2}, {10, 0}, {10, 2}});
  // Rows 2 and 3 are 100 and 104 (or 104 and 100) from the two centres.
  const LloydStep s = lloyd_step(x, rows({{0, 0}, {0, 2}}));
  CHECK(torch::equal(s.labels, labels({0, 1, 0, 1})));
  CHECK(s.inertia == Approx(50.0));
  CHECK(torch::allclose(s.centres, rows({{5, 0}, {5, 2}})));
  CHECK(s.empty == 0);
  // From there the centres stay, the inertia is 25.
  const LloydStep next = lloyd_step(x, s.centres);
  CHECK(next.inertia == Approx(25.0));
  CHECK(torch::allclose(next.centres, s.centres));
}

TEST_CASE("a cluster left without rows takes the row farthest from its centre", "[unsupervised]") {
  const torch::Tensor x = rows({{0, 0}, {1, 0}, {5, 0}});
  const LloydStep s = lloyd_step(x, rows({{0, 0}, {100, 100}}));
  CHECK(s.empty == 1);
  CHECK(torch::allclose(s.centres[1], x[2]));
}

TEST_CASE("k-means finds three separated blobs whatever their label names", "[unsupervised]") {
  torch::Tensor truth;
  const torch::Tensor x = three_blobs(&truth);
  torch::Generator g = at::detail::createCPUGenerator(1);
  const KMeansFit fit = kmeans(x, 3, g);
  CHECK(fit.converged);
  CHECK(adjusted_rand_index(fit.labels, truth) == Approx(1.0));
  // Each centre is its blob's mean.
  for (int64_t j = 0; j < 3; ++j) {
    const torch::Tensor members = x.index_select(0, torch::nonzero(fit.labels.eq(j)).squeeze(1));
    CHECK(torch::allclose(fit.centres[j], members.mean(0)));
  }
  // The same seed gives the same centres.
  torch::Generator again = at::detail::createCPUGenerator(1);
  CHECK(torch::equal(kmeans(x, 3, again).centres, fit.centres));
  // Three clusters separate these rows better than two or five.
  const double s3 = silhouette_score(x, fit.labels);
  torch::Generator g2 = at::detail::createCPUGenerator(1), g5 = at::detail::createCPUGenerator(1);
  CHECK(s3 > silhouette_score(x, kmeans(x, 2, g2).labels));
  CHECK(s3 > silhouette_score(x, kmeans(x, 5, g5).labels));
}

TEST_CASE("k-means++ refuses more clusters than rows", "[unsupervised]") {
  torch::Generator g = at::detail::createCPUGenerator(1);
  CHECK_THROWS_WITH(kmeans_plus_plus(rows({{0}, {1}}), 3, g), Catch::Contains("k = 3 for 2 rows"));
}

TEST_CASE("the silhouette of a hand-computed case", "[unsupervised]") {
  const torch::Tensor x = rows({{0}, {1}, {10}, {11}});
  // a = 1 for every row; b = 10.5, 9.5, 9.5, 10.5.
  const double expected = ((10.5 - 1) / 10.5 + (9.5 - 1) / 9.5) / 2;
  CHECK(silhouette_score(x, labels({0, 0, 1, 1})) == Approx(expected).epsilon(1e-12));
  // A row alone in its cluster scores 0: rows 0 and 1 as above with b over {10}.
  const double with_single = ((10.0 - 1) / 10.0 + (9.0 - 1) / 9.0 + 0.0) / 3;
  CHECK(silhouette_score(rows({{0}, {1}, {10}}), labels({0, 0, 1})) == Approx(with_single).epsilon(1e-12));
  CHECK_THROWS_WITH(silhouette_score(x, labels({2, 2, 2, 2})), Catch::Contains("at least two clusters"));
}

TEST_CASE("the adjusted Rand index of hand-computed cases", "[unsupervised]") {
  CHECK(adjusted_rand_index(labels({0, 0, 1, 1}), labels({5, 5, 3, 3})) == Approx(1.0));
  // Pairs together in both: 2; in a: 6; in b: 3; of 15 pairs. (2 - 1.2) / (4.5 - 1.2).
  CHECK(adjusted_rand_index(labels({0, 0, 0, 1, 1, 1}), labels({0, 0, 1, 1, 2, 2})) == Approx(0.8 / 3.3).epsilon(1e-12));
  // Independent labellings score near 0.
  torch::Generator g = at::detail::createCPUGenerator(3);
  const double chance = adjusted_rand_index(torch::randint(4, {20000}, g, torch::kInt64), torch::randint(4, {20000}, g, torch::kInt64));
  CHECK(std::abs(chance) < 0.01);
}

TEST_CASE("Gaussian mixture densities of hand-computed cases", "[unsupervised]") {
  // One standard normal in 2-D at (1, 0): -log(2 pi) - 1/2.
  GaussianMixtureParams one{torch::ones({1}, torch::kFloat64), rows({{0, 0}}), torch::eye(2, torch::kFloat64).unsqueeze(0)};
  CHECK(mixture_log_density(rows({{1, 0}}), one).item<double>() == Approx(-std::log(2 * M_PI) - 0.5).epsilon(1e-12));
  // A diagonal covariance stored full or as its diagonal gives the same densities.
  const torch::Tensor x = three_blobs();
  GaussianMixtureParams full{torch::tensor({0.25, 0.75}, torch::kFloat64), rows({{0, 0}, {5, 5}}),
                             torch::stack({torch::diag(torch::tensor({1.0, 4.0}, torch::kFloat64)),
                                           torch::diag(torch::tensor({9.0, 0.5}, torch::kFloat64))})};
  GaussianMixtureParams diag{full.weights, full.means, rows({{1, 4}, {9, 0.5}})};
  CHECK(torch::allclose(component_log_densities(x, full), component_log_densities(x, diag)));
  // Free parameters: 1 weight, 4 means, 2 x 3 covariances.
  CHECK(mixture_parameters(2, 2, false) == 11);
  CHECK(mixture_parameters(2, 2, true) == 9);
  CHECK(bic(x, full) == Approx(-2 * mixture_log_density(x, full).sum().item<double>() + 11 * std::log(150.0)));
}

TEST_CASE("a mixture from hard clusters has their weights, means and variances", "[unsupervised]") {
  const GaussianMixtureParams g = mixture_from_clusters(rows({{0}, {2}, {10}}), labels({0, 0, 1}), 2, true, 1e-6);
  CHECK(g.weights[0].item<double>() == Approx(2.0 / 3));
  CHECK(g.means[0][0].item<double>() == Approx(1.0));
  CHECK(g.means[1][0].item<double>() == Approx(10.0));
  CHECK(g.covariances[0][0].item<double>() == Approx(1.0 + 1e-6));
  CHECK(g.covariances[1][0].item<double>() == Approx(1e-6));
}

TEST_CASE("EM never lowers the likelihood and finds the blobs' weights and means", "[unsupervised]") {
  torch::Tensor truth;
  const torch::Tensor x = three_blobs(&truth);
  torch::Generator g = at::detail::createCPUGenerator(2);
  // Start from a poor split: k-means++ centres with one Lloyd step.
  const LloydStep start = lloyd_step(x, kmeans_plus_plus(x, 3, g));
  GaussianMixtureParams params = mixture_from_clusters(x, start.labels, 3, false, 1e-6);
  double previous = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < 30; ++i) {
    const EmStep s = em_step(x, params, 1e-6);
    CHECK(s.mean_log_likelihood >= previous - 1e-9);
    previous = s.mean_log_likelihood;
    params = s.params;
  }
  const torch::Tensor assigned = component_log_densities(x, params).argmax(1);
  CHECK(adjusted_rand_index(assigned, truth) == Approx(1.0));
  for (int64_t j = 0; j < 3; ++j) CHECK(params.weights[j].item<double>() == Approx(1.0 / 3).margin(1e-6));
  // With the blobs this far apart, each component is its blob's maximum-likelihood Gaussian.
  for (int64_t j = 0; j < 3; ++j) {
    const torch::Tensor blob = x.index_select(0, torch::nonzero(assigned.eq(j)).squeeze(1));
    const torch::Tensor centred = blob - blob.mean(0);
    const torch::Tensor covariance = torch::mm(centred.t(), centred) / static_cast<double>(blob.size(0));
    CHECK(torch::allclose(params.means[j], blob.mean(0), 1e-6, 1e-6));
    CHECK(torch::allclose(params.covariances[j], covariance, 1e-5, 1e-5));
  }
}

TEST_CASE("the unsupervised module scores raw inputs and its checkpoint keeps k", "[unsupervised]") {
  const torch::Tensor x = three_blobs();
  UnsupervisedModel model("kmeans", 2, 8, false, PredictorConfig{}, 0);
  model->set_input_statistics(x.mean(0), x.std(0));
  torch::Generator g = at::detail::createCPUGenerator(1);
  const KMeansFit fit = kmeans(model->standardise(x), 3, g);
  model->set_centres(fit.centres);
  CHECK(model->clusters() == 3);
  CHECK(torch::equal(model->assign(x), fit.labels));
  // A row far from every blob is more novel than the blobs' rows.
  CHECK(model->novelty(rows({{30, 30}})).item<double>() > model->novelty(x).max().item<double>());

  std::stringstream buffer;
  {
    torch::serialize::OutputArchive archive;
    model->save(archive);
    archive.save_to(buffer);
  }
  // A model built with another k takes the checkpoint's.
  UnsupervisedModel loaded("kmeans", 2, 8, false, PredictorConfig{}, 0);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  loaded->load(in);
  CHECK(loaded->clusters() == 3);
  CHECK(torch::equal(loaded->assign(x), fit.labels));
  CHECK_THROWS_WITH(loaded->assign(torch::zeros({2, 3})), Catch::Contains("3 elements for a model of 2"));
}
