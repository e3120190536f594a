#include "rlforge/trainers/federated.h"

#include <algorithm>
#include <stdexcept>

#include "rlforge/envs/seeds.h"

namespace rlforge {

torch::Tensor client_shard(const torch::Tensor& train, const torch::Tensor& labels, int64_t classes, int clients,
                           int client, const std::string& partition, double alpha, torch::Generator& generator) {
  std::vector<torch::Tensor> mine;
  if (partition == "dirichlet") {
    const torch::Tensor train_labels = labels.index_select(0, train);
    for (int64_t c = 0; c < classes; ++c) {
      const torch::Tensor rows = train.index_select(0, train_labels.eq(c).nonzero().flatten());
      const torch::Tensor shuffled = rows.index_select(0, torch::randperm(rows.numel(), generator, torch::kInt64));
      // Dirichlet(alpha) proportions from normalised Gamma(alpha) draws.
      const torch::Tensor gamma = at::_standard_gamma(torch::full({clients}, alpha, torch::kFloat64), generator);
      const torch::Tensor cuts =
          (gamma.cumsum(0) / gamma.sum() * static_cast<double>(rows.numel())).round().to(torch::kInt64);
      const int64_t begin = client == 0 ? 0 : cuts[client - 1].item<int64_t>();
      const int64_t end = client == clients - 1 ? rows.numel() : cuts[client].item<int64_t>();
      if (end > begin) mine.push_back(shuffled.narrow(0, begin, end - begin));
    }
  } else {
    const torch::Tensor shuffled = train.index_select(0, torch::randperm(train.numel(), generator, torch::kInt64));
    const int64_t n = train.numel();
    const int64_t begin = n * client / clients, end = n * (client + 1) / clients;
    if (end > begin) mine.push_back(shuffled.narrow(0, begin, end - begin));
  }
  if (mine.empty()) {
    throw std::runtime_error("federated client " + std::to_string(client) + " of " + std::to_string(clients) +
                             " got no training rows" +
                             (partition == "dirichlet" ? " (dirichlet_alpha " + std::to_string(alpha) + " is too small)"
                                                       : std::string(" (more clients than rows)")));
  }
  return std::get<0>(torch::cat(mine).sort());
}

int64_t average_weighted(std::vector<torch::Tensor>& parameters, double weight, const SumOverClients& sum_over_clients) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (const torch::Tensor& p : parameters) parts.push_back(p.detach().to(torch::kCPU, torch::kFloat32).flatten() * weight);
  parts.push_back(torch::full({1}, weight, torch::kFloat32));
  torch::Tensor flat = torch::cat(parts);
  sum_over_clients(flat);
  const torch::Tensor total = flat[flat.size(0) - 1];
  if (total.item<float>() <= 0) return flat.numel() * static_cast<int64_t>(sizeof(float));  // nobody took part
  int64_t offset = 0;
  for (torch::Tensor& p : parameters) {
    p.copy_((flat.narrow(0, offset, p.numel()) / total).view_as(p));
    offset += p.numel();
  }
  return flat.numel() * static_cast<int64_t>(sizeof(float));
}

bool client_takes_part(uint64_t seed, uint64_t round, int client, double fraction) {
  if (fraction >= 1) return true;
  const uint64_t bits = seeds::mixed(seeds::mixed(seed, round), static_cast<uint64_t>(client));
  return static_cast<double>(bits >> 11) * 0x1.0p-53 < fraction;  // uniform in [0, 1), 53 bits
}

std::pair<torch::Tensor, torch::Tensor> federated_moments(const torch::Tensor& x, const SumOverClients& sum_over_clients) {
  const torch::Tensor xd = x.to(torch::kFloat64);
  torch::Tensor moments =
      torch::cat({xd.sum(0), xd.pow(2).sum(0), torch::full({1}, static_cast<double>(x.size(0)), torch::kFloat64)});
  sum_over_clients(moments);
  const int64_t d = x.size(1);
  const torch::Tensor count = moments[2 * d];
  const torch::Tensor mean = moments.narrow(0, 0, d) / count;
  const torch::Tensor var = (moments.narrow(0, d, d) / count - mean.pow(2)).clamp_min(0);
  return {mean.to(torch::kFloat32), var.sqrt().to(torch::kFloat32)};
}

ClippedUpdate private_mean_update(std::vector<torch::Tensor>& parameters, const std::vector<torch::Tensor>& global,
                                  double clip, double noise_multiplier, double expected_clients, torch::Generator& noise,
                                  const SumOverClients& sum_over_clients) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    parts.push_back((parameters[k] - global[k]).to(torch::kCPU, torch::kFloat32).flatten());
  }
  torch::Tensor update = torch::cat(parts);
  ClippedUpdate result;
  result.norm = update.norm().item<double>();
  update = update * std::min(1.0, clip / (result.norm + 1e-12));
  sum_over_clients(update);
  result.bytes = update.numel() * static_cast<int64_t>(sizeof(float));
  update += noise_multiplier * clip * torch::randn(update.sizes(), noise);
  update /= expected_clients;
  int64_t offset = 0;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    parameters[k].copy_(global[k] + update.narrow(0, offset, parameters[k].numel())
                                        .view_as(parameters[k])
                                        .to(parameters[k].device(), parameters[k].scalar_type()));
    offset += parameters[k].numel();
  }
  return result;
}

std::vector<std::string> gather_texts(const std::string& text, int client, int clients, const SumOverClients& sum_over_clients) {
  torch::Tensor lengths = torch::zeros({clients}, torch::kFloat64);
  lengths[client] = static_cast<double>(text.size());
  sum_over_clients(lengths);
  const auto longest = static_cast<int64_t>(lengths.max().item<double>());
  // Bytes as float64: exact for 0-255, and the sum is the one collective every client has.
  torch::Tensor rows = torch::zeros({clients, std::max<int64_t>(longest, 1)}, torch::kFloat64);
  for (std::size_t i = 0; i < text.size(); ++i) rows[client][static_cast<int64_t>(i)] = static_cast<double>(static_cast<unsigned char>(text[i]));
  sum_over_clients(rows);
  std::vector<std::string> out;
  for (int k = 0; k < clients; ++k) {
    std::string s(static_cast<std::size_t>(lengths[k].item<double>()), '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(static_cast<int>(rows[k][static_cast<int64_t>(i)].item<double>()));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rlforge
