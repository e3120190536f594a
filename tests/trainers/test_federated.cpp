// Federated averaging: the weighted mean, one client against centralised training, and the config's
// rules. Several clients run as processes (`rlforge train --nproc N`): tests/cli/test_cli.sh's
// distributed section.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "../test_files.h"
#include "config_error.h"
#include "rlforge/stats/privacy_accountant.h"
#include "rlforge/trainers/federated.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

const char* kTable =
    "run: {seed: 6}\n"
    "data: {generate: classification, rows: 1200, features: 6, classes: 3, class_separation: 1.5}\n"
    "agent:\n"
    "  algo: supervised\n"
    "  task: classification\n"
    "  batch_size: 64\n"
    "  optimizer: {name: adam, learning_rate: 0.003}\n"
    "  network: {hidden: [16, 16], dropout: 0.1}\n"
    "trainer: {epochs: 4}\n";

void train(const std::vector<std::string>& overrides, const fs::path& dir) {
  std::ostringstream progress;
  Trainer trainer(parse_config(kTable, "federated_test.yaml", overrides), dir.string(), progress);
  trainer.run();
}

torch::Tensor checkpoint_tensor(const fs::path& checkpoint, const std::string& group, const std::string& name) {
  torch::serialize::InputArchive root, model, part;
  root.load_from(checkpoint.string());
  root.read("model", model);
  model.read(group, part);
  torch::Tensor t;
  part.read(name, t);
  return t;
}


}  // namespace

TEST_CASE("federated averaging takes the mean of the clients' weights, weighted by their rows", "[federated]") {
  // Two clients with hand-set weights: 300 rows with w = a, 100 rows with w = b.
  const torch::Tensor a_weight = torch::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}), a_bias = torch::tensor({0.5f, -1.0f});
  const torch::Tensor b_weight = torch::tensor({{5.0f, -2.0f}, {7.0f, 0.0f}}), b_bias = torch::tensor({2.5f, 3.0f});
  std::vector<torch::Tensor> b{b_weight.clone(), b_bias.clone()};
  torch::Tensor b_contribution;
  // Client b's side of the all-reduce, as it would send it.
  average_weighted(b, 100.0, [&](torch::Tensor& flat) { b_contribution = flat.clone(); });
  std::vector<torch::Tensor> a{a_weight.clone(), a_bias.clone()};
  const int64_t bytes = average_weighted(a, 300.0, [&](torch::Tensor& flat) { flat += b_contribution; });
  CHECK(torch::allclose(a[0], (300 * a_weight + 100 * b_weight) / 400));
  CHECK(torch::allclose(a[1], (300 * a_bias + 100 * b_bias) / 400));
  // What crosses ranks: the weighted parameters and the row count, nothing of the data.
  CHECK(bytes == (4 + 2 + 1) * 4);
}

TEST_CASE("client shards are disjoint, cover the split, and follow the partition", "[federated]") {
  const torch::Tensor train = torch::arange(0, 4000, 2, torch::kInt64);  // 2,000 rows, even indices
  const torch::Tensor labels = torch::arange(0, 4000, torch::kInt64).remainder(8).div(2, "floor");  // 4 classes
  for (const std::string partition : {"iid", "dirichlet"}) {
    INFO(partition);
    std::vector<torch::Tensor> shards;
    for (int client = 0; client < 4; ++client) {
      torch::Generator g = at::detail::createCPUGenerator(11);  // alike on every client
      shards.push_back(client_shard(train, labels, 4, 4, client, partition, 0.3, g));
    }
    const torch::Tensor all = std::get<0>(torch::cat(shards).sort());
    CHECK(all.equal(train));  // disjoint and complete
    if (partition == "iid") {
      for (const auto& shard : shards) CHECK(shard.numel() == 500);
    } else {
      // Label skew: some client holds far more than its even share of some class.
      double largest_share = 0;
      for (const auto& shard : shards) {
        const torch::Tensor counts = torch::bincount(labels.index_select(0, shard), {}, 4).to(torch::kFloat64);
        largest_share = std::max(largest_share, (counts / 500.0).max().item<double>());
      }
      CHECK(largest_share > 0.5);  // an even split gives each client 0.25 of a class
    }
  }
}

TEST_CASE("federated input statistics are those of all the clients' rows", "[federated]") {
  const torch::Tensor a = torch::randn({30, 3}) * 2 + 1, b = torch::randn({10, 3}) - 4;
  torch::Tensor b_moments;
  federated_moments(b, [&](torch::Tensor& t) { b_moments = t.clone(); });
  const auto [mean, std] = federated_moments(a, [&](torch::Tensor& t) { t += b_moments; });
  const torch::Tensor both = torch::cat({a, b});
  CHECK(torch::allclose(mean, both.mean(0), 1e-5, 1e-5));
  CHECK(torch::allclose(std, both.std(0, /*unbiased=*/false), 1e-5, 1e-5));
}

TEST_CASE("DP-FedAvg's mean of clipped updates moves the weights by at most the clip", "[federated][privacy]") {
  const std::vector<torch::Tensor> global{torch::zeros({4, 4}), torch::zeros({4})};
  // Two clients, one with a huge update: each counts for at most the clip.
  std::vector<torch::Tensor> other{torch::full({4, 4}, 100.0f), torch::full({4}, -100.0f)};
  torch::Tensor other_sum;
  torch::Generator unused = at::detail::createCPUGenerator(1);
  private_mean_update(other, global, 0.5, 0.0, 2, unused, [&](torch::Tensor& t) { other_sum = t.clone(); });
  std::vector<torch::Tensor> mine{torch::full({4, 4}, 0.01f), torch::full({4}, 0.01f)};
  torch::Generator noise = at::detail::createCPUGenerator(2);
  const ClippedUpdate u = private_mean_update(mine, global, 0.5, 0.0, 2, noise, [&](torch::Tensor& t) { t += other_sum; });
  CHECK(u.norm == Approx(0.01 * std::sqrt(20.0)));
  CHECK(u.bytes == 20 * 4);
  const double moved = std::sqrt(mine[0].pow(2).sum().item<double>() + mine[1].pow(2).sum().item<double>());
  CHECK(moved <= (0.5 + 0.01 * std::sqrt(20.0)) / 2 + 1e-6);
  // With noise, the same step draws N(0, (z clip)^2) / clients per element.
  std::vector<torch::Tensor> noisy{torch::zeros({100, 100})};
  const std::vector<torch::Tensor> zero{torch::zeros({100, 100})};
  torch::Generator g = at::detail::createCPUGenerator(3);
  private_mean_update(noisy, zero, 0.5, 2.0, 4, g, [](torch::Tensor&) {});
  CHECK(noisy[0].std().item<double>() == Approx(2.0 * 0.5 / 4).epsilon(0.03));
}

TEST_CASE("federated averaging with one client is centralised training, bit for bit", "[federated]") {
  const fs::path central = testing::fresh_dir("federated-central"), one = testing::fresh_dir("federated-one");
  train({}, central);
  train({"agent.federated.enabled=true"}, one);
  CHECK(testing::read_text(one / "eval.csv") == testing::read_text(central / "eval.csv"));
  for (const char* name : {"weight", "bias"}) {
    CHECK(checkpoint_tensor(one / "checkpoints" / "last.pt", "head", name)
              .equal(checkpoint_tensor(central / "checkpoints" / "last.pt", "head", name)));
  }
  // Its metrics say what the client held and sent (nothing, alone).
  CHECK_THAT(testing::read_text(one / "metrics.csv"), Catch::StartsWith("epoch,train_loss,train_accuracy,learning_rate,client_rows,bytes_sent,round_clients\n"));
}

TEST_CASE("DP-FedAvg clips each client's update and accounts for every round", "[federated][privacy]") {
  const fs::path one = testing::fresh_dir("dp-fedavg-1"), two = testing::fresh_dir("dp-fedavg-2");
  // Noise this small leaves the clipping to see: a round moves the weights by at most client_clip.
  const std::vector<std::string> dp{"agent.federated.enabled=true", "agent.federated.client_noise_multiplier=1e-6",
                                    "agent.federated.client_clip=0.05"};
  std::vector<std::string> first = dp, second = dp;
  first.push_back("trainer.epochs=1");
  second.push_back("trainer.epochs=2");
  train(first, one);
  train(second, two);
  double moved_squared = 0;
  for (const char* name : {"weight", "bias"}) {
    const torch::Tensor a = checkpoint_tensor(one / "checkpoints" / "last.pt", "head", name);
    const torch::Tensor b = checkpoint_tensor(two / "checkpoints" / "last.pt", "head", name);
    moved_squared += (b - a).pow(2).sum().item<double>();
  }
  // The head alone is part of the update, so it moved no more than the whole did.
  CHECK(moved_squared > 0);
  CHECK(std::sqrt(moved_squared) <= 0.05 * (1 + 1e-3));
  const YAML::Node privacy = YAML::LoadFile((two / "summary.yaml").string())["privacy"];
  INFO(testing::read_text(two / "summary.yaml"));
  CHECK(privacy["rounds"].as<int64_t>() == 2);
  CHECK(privacy["clients"].as<int64_t>() == 1);
  // Every client in every round: the Gaussian mechanism composed twice (sampling rate 1).
  CHECK(privacy["epsilon"].as<double>() == Approx(stats::dp_sgd_epsilon(1.0, 1e-6, 2, 1e-5).epsilon));
  const std::string metrics = testing::read_text(two / "metrics.csv");
  CHECK_THAT(metrics, Catch::StartsWith("epoch,train_loss,train_accuracy,learning_rate,client_rows,bytes_sent,round_clients,client_epsilon,client_update_norm\n"));
}

TEST_CASE("client sampling: each client joins a round with the set probability, drawn alike everywhere", "[federated]") {
  const uint64_t seed = 77;
  int64_t first = 0, second = 0, both = 0;
  const int64_t rounds = 40000;
  for (uint64_t round = 1; round <= static_cast<uint64_t>(rounds); ++round) {
    CHECK(client_takes_part(seed, round, 3, 1.0));
    const bool a = client_takes_part(seed, round, 0, 0.3), b = client_takes_part(seed, round, 1, 0.3);
    REQUIRE(a == client_takes_part(seed, round, 0, 0.3));  // any client computes any other's draw
    first += a;
    second += b;
    both += a && b;
  }
  // Binomial(40000, 0.3): standard deviation 92 draws; five of them either way.
  CHECK(std::abs(first - 12000) < 460);
  CHECK(std::abs(second - 12000) < 460);
  // Independent clients: both join in 9% of the rounds (standard deviation 57 draws).
  CHECK(std::abs(both - 3600) < 290);
  // Another run's seed draws other rounds.
  int64_t differ = 0;
  for (uint64_t round = 1; round <= 1000; ++round) differ += client_takes_part(seed, round, 0, 0.5) != client_takes_part(seed + 1, round, 0, 0.5);
  CHECK(differ > 400);
}

TEST_CASE("a round nobody takes part in leaves the weights, and DP-FedAvg divides by the expected clients", "[federated]") {
  std::vector<torch::Tensor> params{torch::tensor({1.0f, 2.0f})};
  average_weighted(params, 0.0, [](torch::Tensor&) {});
  CHECK(params[0].equal(torch::tensor({1.0f, 2.0f})));
  // One client of an expected 0.5 x 4 = 2: its clipped update (norm 1 <= clip 2) is halved.
  std::vector<torch::Tensor> mine{torch::tensor({1.0f, 0.0f})};
  const std::vector<torch::Tensor> global{torch::zeros({2})};
  torch::Generator noise = at::detail::createCPUGenerator(1);
  private_mean_update(mine, global, 2.0, 0.0, 2.0, noise, [](torch::Tensor&) {});
  CHECK(mine[0].equal(torch::tensor({0.5f, 0.0f})));
}

TEST_CASE("with client sampling a client sits rounds out and the accountant uses the sampling rate", "[federated][privacy]") {
  const fs::path dir = testing::fresh_dir("fedavg-sampled");
  train({"agent.federated.enabled=true", "agent.federated.client_fraction=0.5", "agent.federated.client_noise_multiplier=1",
         "trainer.epochs=12"},
        dir);
  std::istringstream metrics(testing::read_text(dir / "metrics.csv"));
  std::string line;
  std::getline(metrics, line);
  int took_part = 0, sat_out = 0;
  while (std::getline(metrics, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    REQUIRE(cells.size() == 9);
    const bool in_round = cells[6] == "1";
    CHECK((in_round || cells[6] == "0"));
    // A client sitting the round out trains nothing (no loss) and sends nothing.
    CHECK((cells[1] == "nan") == !in_round);
    CHECK((cells[5] == "0") == !in_round);
    in_round ? ++took_part : ++sat_out;
  }
  CHECK(took_part > 0);
  CHECK(sat_out > 0);
  const YAML::Node privacy = YAML::LoadFile((dir / "summary.yaml").string())["privacy"];
  CHECK(privacy["client_fraction"].as<double>() == 0.5);
  CHECK(privacy["epsilon"].as<double>() == Approx(stats::dp_sgd_epsilon(0.5, 1.0, 12, 1e-5).epsilon));
  CHECK(privacy["epsilon"].as<double>() < stats::dp_sgd_epsilon(1.0, 1.0, 12, 1e-5).epsilon);
}

TEST_CASE("federated settings are checked before anything runs", "[federated][config]") {
  CHECK_THAT(testing::config_error_of(kTable, {"agent.federated.enabled=true", "agent.federated.local_epochs=0"}),
             Catch::Contains("agent.federated.local_epochs"));
  CHECK_THAT(testing::config_error_of(kTable, {"agent.federated.enabled=true", "agent.federated.partition=shards"}),
             Catch::Contains("agent.federated.partition"));
  CHECK_THAT(testing::config_error_of(kTable, {"agent.federated.enabled=true", "agent.federated.dirichlet_alpha=0"}),
             Catch::Contains("agent.federated.dirichlet_alpha"));
  CHECK_THAT(testing::config_error_of(kTable, {"agent.federated.enabled=true", "agent.optimizer.dp.noise_multiplier=1"}),
             Catch::Contains("agent.federated.enabled") && Catch::Contains("does not combine"));
  CHECK_THAT(testing::config_error_of(kTable, {"agent.federated.client_noise_multiplier=1"}),
             Catch::Contains("agent.federated.client_noise_multiplier") && Catch::Contains("needs agent.federated.enabled"));
  CHECK_THAT(testing::config_error_of(kTable, {"agent.federated.enabled=true", "agent.task=regression", "data.generate=regression",
                       "agent.federated.partition=dirichlet"}),
             Catch::Contains("dirichlet shares out rows by label"));
  // Clients with files of their own: instead of data.generate, with data.target, federated, no partition.
  const char* own = "data: {target: label}\n"
                    "agent: {algo: supervised, task: classification, federated: {client_data: [a.csv, b.csv]}}\n";
  auto with = [&](const std::vector<std::string>& more) { return testing::config_error_of(own, more); };
  CHECK(with({"agent.federated.enabled=true"}) == "(no error)");
  CHECK_THAT(with({}), Catch::Contains("agent.federated.client_data") && Catch::Contains("needs agent.federated.enabled"));
  CHECK_THAT(with({"agent.federated.enabled=true", "agent.federated.partition=dirichlet"}),
             Catch::Contains("agent.federated.partition") && Catch::Contains("own file"));
  CHECK_THAT(with({"agent.federated.enabled=true", "data.generate=classification"}), Catch::Contains("exactly one data source"));
  CHECK_THAT(testing::config_error_of(kTable, {"data.target=label"}),
             Catch::Contains("data.target") && Catch::Contains("applies only with data.csv or agent.federated.client_data"));
}
