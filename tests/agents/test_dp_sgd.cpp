// DP-SGD's gradient: ghost per-sample norms against per-sample autograd, the clipped sum, the
// bound on one sample's influence, the noise scale, and parameters that would escape clipping.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "rlforge/agents/dp_sgd.h"
#include "rlforge/agents/supervised.h"

using namespace rlforge;
using Catch::Matchers::Contains;

namespace {

struct Problem {
  Predictor net{nullptr};
  torch::Tensor x, labels;
};

// A small MLP on random inputs; inputs scaled so that per-sample norms spread around C = 1.
Problem make_problem(int64_t batch, uint64_t seed, const std::string& activation = "tanh") {
  torch::manual_seed(static_cast<int64_t>(seed));
  PredictorConfig config;
  config.mlp = MlpConfig{{16, 8}, activation, false};
  Problem p;
  p.net = Predictor(5, 3, config);
  p.x = torch::randn({batch, 5}) * torch::linspace(0.1, 4.0, batch).unsqueeze(1);
  p.labels = torch::randint(0, 3, {batch}, torch::kInt64);
  return p;
}

torch::Tensor losses_of(Problem& p, LinearTape& tape, const torch::Tensor& x, const torch::Tensor& labels) {
  return torch::nn::functional::cross_entropy(p.net->forward(x, tape), labels,
                                              torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
}

// Sample i's full gradient, flattened, by plain autograd on that sample alone.
torch::Tensor sample_gradient(Problem& p, int64_t i) {
  LinearTape tape;
  const torch::Tensor loss = losses_of(p, tape, p.x.narrow(0, i, 1), p.labels.narrow(0, i, 1)).sum();
  std::vector<torch::Tensor> grads = torch::autograd::grad({loss}, p.net->parameters());
  for (auto& g : grads) g = g.flatten();
  return torch::cat(grads);
}

torch::Tensor flat_grads(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters) grads.push_back(p.grad().flatten());
  return torch::cat(grads);
}

}  // namespace

TEST_CASE("ghost per-sample gradient norms equal per-sample autograd", "[dp_sgd]") {
  for (const std::string activation : {"tanh", "relu"}) {
    INFO(activation);
    Problem p = make_problem(12, 7, activation);
    LinearTape tape;
    const torch::Tensor norms = per_sample_gradient_norms(losses_of(p, tape, p.x, p.labels), tape);
    REQUIRE(norms.size(0) == 12);
    for (int64_t i = 0; i < 12; ++i) {
      CHECK(norms[i].item<double>() == Approx(sample_gradient(p, i).norm().item<double>()).epsilon(1e-5));
    }
  }
}

TEST_CASE("without noise the DP-SGD gradient is the mean of the clipped per-sample gradients", "[dp_sgd]") {
  Problem p = make_problem(10, 3);
  DpSgdConfig config;
  config.noise_multiplier = 0;
  // C at the median norm: some samples are clipped, some are not.
  std::vector<double> norms;
  for (int64_t i = 0; i < 10; ++i) norms.push_back(sample_gradient(p, i).norm().item<double>());
  std::sort(norms.begin(), norms.end());
  const double c = (norms[4] + norms[5]) / 2;
  config.max_grad_norm = c;
  const std::vector<torch::Tensor> parameters = p.net->parameters();
  LinearTape tape;
  torch::Generator generator = at::detail::createCPUGenerator(1);
  const DpGradientStats stats =
      dp_sgd_gradient(losses_of(p, tape, p.x, p.labels), tape, parameters, config, 10.0, generator);
  torch::Tensor expected = torch::zeros_like(flat_grads(parameters));
  int clipped = 0;
  for (int64_t i = 0; i < 10; ++i) {
    const torch::Tensor g = sample_gradient(p, i);
    const double norm = g.norm().item<double>();
    clipped += norm > c;
    expected += g * std::min(1.0, c / (norm + 1e-6));
  }
  expected /= 10.0;
  CHECK(torch::allclose(flat_grads(parameters), expected, 1e-4, 1e-6));
  // The inputs spread the norms on both sides of C.
  CHECK(clipped == 5);
  CHECK(stats.clipped_fraction == Approx(clipped / 10.0));
  CHECK(stats.samples == 10);
}

TEST_CASE("one sample moves the clipped sum by at most the clipping norm, however extreme", "[dp_sgd]") {
  Problem p = make_problem(9, 5, "relu");
  DpSgdConfig config;
  config.max_grad_norm = 0.5;
  config.noise_multiplier = 0;
  const std::vector<torch::Tensor> parameters = p.net->parameters();
  torch::Generator generator = at::detail::createCPUGenerator(1);
  auto summed = [&](const torch::Tensor& x, const torch::Tensor& labels) {
    LinearTape tape;
    dp_sgd_gradient(losses_of(p, tape, x, labels), tape, parameters, config, 1.0, generator);
    return flat_grads(parameters).clone();
  };
  const torch::Tensor without = summed(p.x.narrow(0, 0, 8), p.labels.narrow(0, 0, 8));
  for (const double scale : {1.0, 1e3, 1e6}) {
    torch::Tensor x = p.x.clone();
    x[8] = x[8] * scale;
    const double moved = (summed(x, p.labels) - without).norm().item<double>();
    INFO("scale " << scale << " moved " << moved);
    CHECK(moved <= 0.5 * (1 + 1e-5));
    CHECK(moved > 0);
  }
}

TEST_CASE("the noise has standard deviation noise_multiplier * C / expected batch size", "[dp_sgd]") {
  torch::manual_seed(11);
  PredictorConfig config;
  config.mlp = MlpConfig{{64}, "tanh", false};
  Predictor net(64, 64, config);
  const std::vector<torch::Tensor> parameters = net->parameters();
  DpSgdConfig dp;
  dp.max_grad_norm = 2.0;
  dp.noise_multiplier = 1.5;
  torch::Generator generator = at::detail::createCPUGenerator(3);
  // Losses with no gradient (times zero): what is left is the noise alone.
  LinearTape tape;
  const torch::Tensor x = torch::randn({4, 64});
  const torch::Tensor losses = net->forward(x, tape).sum(1) * 0.0;
  dp_sgd_gradient(losses, tape, parameters, dp, 8.0, generator);
  const torch::Tensor noise = flat_grads(parameters);  // 64*64 + 64 + 64*64 + 64 = 8,320 draws
  const double expected_std = 1.5 * 2.0 / 8.0;
  // The sample standard deviation of 8,320 normal draws is within 3% of the truth (4 standard errors).
  CHECK(noise.std().item<double>() == Approx(expected_std).epsilon(0.03));
  CHECK(std::abs(noise.mean().item<double>()) < 4 * expected_std / std::sqrt(8320.0));
  // An empty batch (Poisson sampling can draw one) still gets its noise.
  LinearTape empty_tape;
  const torch::Tensor none = net->forward(torch::zeros({0, 64}), empty_tape).sum(1);
  const DpGradientStats stats = dp_sgd_gradient(none, empty_tape, parameters, dp, 8.0, generator);
  CHECK(stats.samples == 0);
  CHECK(flat_grads(parameters).std().item<double>() == Approx(expected_std).epsilon(0.03));
}

TEST_CASE("a parameter outside the recorded layers would escape clipping and is refused", "[dp_sgd]") {
  Problem p = make_problem(4, 1);
  DpSgdConfig config;
  config.noise_multiplier = 1;
  torch::Generator generator = at::detail::createCPUGenerator(1);
  std::vector<torch::Tensor> parameters = p.net->parameters();
  const torch::Tensor scale = torch::ones({3}, torch::requires_grad());
  parameters.push_back(scale);
  LinearTape tape;
  const torch::Tensor losses = torch::nn::functional::cross_entropy(
      p.net->forward(p.x, tape) * scale, p.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  CHECK_THROWS_WITH(dp_sgd_gradient(losses, tape, parameters, config, 4.0, generator),
                    Contains("is not in a recorded linear layer"));
  // A layer run twice cannot be normed per sample by its two uses separately.
  torch::nn::Linear layer(3, 3);
  LinearTape twice;
  const torch::Tensor y = twice.linear(*layer, twice.linear(*layer, torch::randn({2, 3})));
  CHECK_THROWS_WITH(dp_sgd_gradient(y.sum(1), twice, layer->parameters(), config, 2.0, generator), Contains("ran twice"));
}
