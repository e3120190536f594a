#pragma once
// Federated averaging's pieces (FedAvg, McMahan et al. 2017; DP-FedAvg, McMahan et al. 2018):
// how a training split is shared out among clients, the weighted mean of their weights, the
// input statistics of all their rows, and the clipped, noised mean of their updates. The sum over
// clients (an all-reduce) is passed in, so that each piece runs, and is tested, without processes.

#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace rlforge {

// Sums a flat CPU tensor over the clients, in place (the identity for one client).
using SumOverClients = std::function<void(torch::Tensor&)>;

// Client `client` of `clients`'s rows of `train` (int64 row indices), sorted: an even random share
// ("iid"), or per class a Dirichlet(alpha) share of that class's rows ("dirichlet"; `labels` holds
// every row's class, indexed by row). `generator` must be seeded alike on every client, so that
// the shares are disjoint and cover `train`. Throws std::runtime_error for a client left empty.
torch::Tensor client_shard(const torch::Tensor& train, const torch::Tensor& labels, int64_t classes, int clients,
                           int client, const std::string& partition, double alpha, torch::Generator& generator);

// `parameters` become sum_k w_k p_k / sum_k w_k over the clients (this one's weight: `weight`).
// Returns the bytes this client contributes to the sum: the parameters and the weight, as float32.
int64_t average_weighted(std::vector<torch::Tensor>& parameters, double weight, const SumOverClients& sum_over_clients);

// The mean and standard deviation (population) of every client's rows `x` [n, d], from each
// client's count, sum and sum of squares: aggregates, never rows.
std::pair<torch::Tensor, torch::Tensor> federated_moments(const torch::Tensor& x, const SumOverClients& sum_over_clients);

struct ClippedUpdate {
  double norm = 0;    // this client's update, before clipping
  int64_t bytes = 0;  // what it contributed to the sum
};

// DP-FedAvg's round: parameters = global + (sum_k clip(p_k - global, clip) + N(0, (z clip)^2)) /
// clients, with the noise drawn from `noise` (seeded alike on every client: the server's draw).
ClippedUpdate private_mean_update(std::vector<torch::Tensor>& parameters, const std::vector<torch::Tensor>& global,
                                  double clip, double noise_multiplier, int clients, torch::Generator& noise,
                                  const SumOverClients& sum_over_clients);

}  // namespace rlforge
