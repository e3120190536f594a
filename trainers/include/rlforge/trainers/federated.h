#pragma once
// Federated averaging's pieces (FedAvg, McMahan et al. 2017; DP-FedAvg, McMahan et al. 2018):
// how a training split is shared out among clients, the weighted mean of their weights, the
// input statistics of all their rows, and the clipped, noised mean of their updates. The sum over
// clients (an all-reduce) is passed in, so that each piece runs, and is tested, without processes.

#include <torch/torch.h>

#include <cstdint>
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

// Whether client `client` takes part in round `round` (counted from 1) when each client joins
// independently with probability `fraction` (Poisson sampling, as DP-FedAvg's accountant
// assumes). Drawn from `seed`, the round and the client alone, so that every client knows every
// other's draw without a message. Always true for a fraction of 1.
bool client_takes_part(uint64_t seed, uint64_t round, int client, double fraction);

// `parameters` become sum_k w_k p_k / sum_k w_k over the clients (this one's weight: `weight`;
// 0 for a client sitting the round out). When every weight is 0 the parameters stay as they are.
// Returns the bytes this client contributes to the sum: the parameters and the weight, as float32.
int64_t average_weighted(std::vector<torch::Tensor>& parameters, double weight, const SumOverClients& sum_over_clients);

// The mean and standard deviation (population) of every client's rows `x` [n, d], from each
// client's count, sum and sum of squares: aggregates, never rows.
std::pair<torch::Tensor, torch::Tensor> federated_moments(const torch::Tensor& x, const SumOverClients& sum_over_clients);

// Every client's `text`, in rank order, through sums only: each client writes its bytes into its
// own row of a zero matrix, and the sum over clients holds every row.
std::vector<std::string> gather_texts(const std::string& text, int client, int clients, const SumOverClients& sum_over_clients);

struct ClippedUpdate {
  double norm = 0;    // this client's update, before clipping
  int64_t bytes = 0;  // what it contributed to the sum
};

// DP-FedAvg's round: parameters = global + (sum_k clip(p_k - global, clip) + N(0, (z clip)^2)) /
// expected_clients, with the noise drawn from `noise` (seeded alike on every client: the server's
// draw). With client sampling the denominator is the expected number of clients, q K, as in
// McMahan et al. (2018); a client sitting the round out has parameters equal to `global`, so its
// update is zero.
ClippedUpdate private_mean_update(std::vector<torch::Tensor>& parameters, const std::vector<torch::Tensor>& global,
                                  double clip, double noise_multiplier, double expected_clients, torch::Generator& noise,
                                  const SumOverClients& sum_over_clients);

}  // namespace rlforge
