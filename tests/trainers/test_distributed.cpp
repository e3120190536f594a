// Data-parallel training over c10d/Gloo: two ranks as two forked processes on loopback.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "../test_files.h"
#include "checkpoint_weights.h"
#include "rlforge/trainers/config.h"
#include "rlforge/trainers/distributed.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

// A TCP socket bound to a free loopback port (listening when `listen`); `port` receives the port.
int bound_loopback_socket(bool listen, int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (listen) ::listen(fd, 1);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

int free_port() {
  int port = 0;
  ::close(bound_loopback_socket(false, port));
  return port;
}

DistributedEnv rank_env(int rank, int port) {
  DistributedEnv env;
  env.master_addr = "127.0.0.1";
  env.port = port;
  env.rank = rank;
  env.world_size = 2;
  env.local_rank = rank;
  return env;
}

// A rank that dies as a crashed process would (exit status 3) during its N-th iteration.
class ExitAfterIterations : public Callback {
 public:
  explicit ExitAfterIterations(int64_t iterations) : left_(iterations) {}
  void on_iteration(TrainingRun& /*run*/, const MetricsRow& /*row*/) override {
    if (--left_ == 0) std::_Exit(3);
  }

 private:
  int64_t left_;
};

// Runs `body(1)` in a forked child (its exit status: 0 when it returned true) and `body(0)` here;
// returns rank 0's result and the child's exit status.
std::pair<bool, int> two_ranks(const std::function<bool(int)>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    bool ok = false;
    try {
      ok = body(1);
    } catch (...) {
    }
    std::_Exit(ok ? 0 : 1);
  }
  bool ok = body(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {ok, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)};
}

const char* kConfig =
    "run: {seed: 3}\n"
    "env: {id: CartPole-v1, num_envs: 4, threads: 1}\n"
    "agent: {n_steps: 32, batch_size: 64, n_epochs: 2, normalize_observation: true, normalize_reward: true,\n"
    "        target_kl: 0.01}\n"
    "trainer: {total_steps: 2048, eval_every: 1024, eval_episodes: 2, log_every: 1024, dist_timeout_seconds: 20}\n";

}  // namespace

TEST_CASE("torchrun variables are checked", "[distributed]") {
  std::map<std::string, std::string> vars;
  auto lookup = [&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  SECTION("unset means one process") {
    const DistributedEnv env = read_distributed_env(lookup);
    CHECK(env.world_size == 1);
    CHECK(env.rank == 0);
  }
  SECTION("full set") {
    vars = {{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.0.0.2"}, {"MASTER_PORT", "29500"}};
    const DistributedEnv env = read_distributed_env(lookup);
    CHECK(env.world_size == 4);
    CHECK(env.rank == 3);
    CHECK(env.local_rank == 1);
    CHECK(env.master_addr == "10.0.0.2");
    CHECK(env.port == 29500);
  }
  SECTION("rank too large") {
    vars = {{"WORLD_SIZE", "2"}, {"RANK", "5"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
    CHECK_THROWS_WITH(read_distributed_env(lookup), Catch::Contains("RANK=5") && Catch::Contains("WORLD_SIZE=2"));
  }
  SECTION("port not a number") {
    vars = {{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "http"}};
    CHECK_THROWS_WITH(read_distributed_env(lookup), Catch::Contains("MASTER_PORT='http'"));
  }
  SECTION("port out of range") {
    vars = {{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "70000"}};
    CHECK_THROWS_WITH(read_distributed_env(lookup), Catch::Contains("MASTER_PORT=70000"));
  }
  SECTION("no master address") {
    vars = {{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_PORT", "29500"}};
    CHECK_THROWS_WITH(read_distributed_env(lookup), Catch::Contains("MASTER_ADDR"));
  }
  SECTION("local world size") {
    vars = {{"WORLD_SIZE", "4"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
    CHECK(read_distributed_env(lookup).local_world_size == 4);  // unset: all ranks may share this machine
    vars["LOCAL_WORLD_SIZE"] = "2";
    CHECK(read_distributed_env(lookup).local_world_size == 2);
    vars["LOCAL_WORLD_SIZE"] = "5";
    CHECK_THROWS_WITH(read_distributed_env(lookup), Catch::Contains("LOCAL_WORLD_SIZE=5") && Catch::Contains("WORLD_SIZE=4"));
  }
  SECTION("world size not a number") {
    vars = {{"WORLD_SIZE", "two"}};
    CHECK_THROWS_WITH(read_distributed_env(lookup), Catch::Contains("WORLD_SIZE='two'"));
  }
}

TEST_CASE("busy-polling only when the ranks fit on the cores", "[distributed]") {
  std::map<std::string, std::string> vars;
  auto lookup = [&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  DistributedEnv env;
  env.world_size = env.local_world_size = 1 << 16;  // more ranks than any machine has threads
  CHECK_FALSE(busy_poll_sockets(env, lookup));
  env.local_world_size = 1;
  CHECK(busy_poll_sockets(env, lookup) == (std::thread::hardware_concurrency() > 0));
  vars["RLFORGE_BUSY_POLL"] = "0";
  CHECK_FALSE(busy_poll_sockets(env, lookup));
  vars["RLFORGE_BUSY_POLL"] = "1";
  env.local_world_size = 1 << 16;
  CHECK(busy_poll_sockets(env, lookup));
  vars["RLFORGE_BUSY_POLL"] = "yes";
  CHECK_THROWS_WITH(busy_poll_sockets(env, lookup), Catch::Contains("RLFORGE_BUSY_POLL='yes'"));
}

TEST_CASE("one process has no group", "[distributed]") {
  Distributed d(DistributedEnv{}, "gloo", torch::kCPU, std::chrono::seconds(1));
  CHECK_FALSE(d.active());
  torch::Tensor t = torch::ones({3});
  d.allreduce_mean(t);
  d.broadcast(t);
  d.barrier();
  CHECK(t.sum().item<float>() == 3.0f);
  CHECK_THROWS_WITH(Distributed(DistributedEnv{}, "nccl", torch::kCPU, std::chrono::seconds(1)),
                    Catch::Contains("nccl needs a CUDA device"));
}

TEST_CASE("collectives on loopback", "[distributed]") {
  const int port = free_port();
  const auto [ok0, status1] = two_ranks([&](int rank) {
    Distributed d(rank_env(rank, port), "gloo", torch::kCPU, std::chrono::seconds(20));
    torch::Tensor b = torch::full({5}, static_cast<float>(rank + 7));
    d.broadcast(b);
    torch::Tensor m = torch::full({4}, static_cast<float>(rank * 2));  // 0 and 2: mean 1
    d.allreduce_mean(m);
    torch::Tensor s = torch::full({2}, static_cast<double>(rank + 1), torch::kFloat64);
    d.allreduce_sum(s);
    d.barrier();
    const std::string shared = d.share("key", rank == 0 ? "from rank 0" : "");
    // Two direct reducers, used in turns and repeatedly, and one that falls back (float64).
    torch::Tensor g = torch::zeros({10001}), h = torch::zeros({3}), f = torch::zeros({2}, torch::kFloat64);
    const auto reduce_g = d.sum_reducer(g), reduce_h = d.sum_reducer(h), reduce_f = d.sum_reducer(f);
    bool sums = true;
    for (int i = 0; i < 3; ++i) {
      g.fill_(static_cast<float>(rank + i));  // sum 2i + 1
      h.fill_(static_cast<float>(10 * rank));
      f.fill_(static_cast<double>(rank + 0.5));
      reduce_g();
      reduce_h();
      reduce_f();
      sums = sums && g.eq(2 * i + 1).all().item<bool>() && h.eq(10).all().item<bool>() && f.eq(2).all().item<bool>();
    }
    return b.eq(7).all().item<bool>() && m.eq(1).all().item<bool>() && s.eq(3).all().item<bool>() &&
           shared == "from rank 0" && sums;
  });
  CHECK(ok0);
  CHECK(status1 == 0);
}

TEST_CASE("unreachable master fails in time", "[distributed]") {
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(Distributed(rank_env(1, free_port()), "gloo", torch::kCPU, std::chrono::seconds(2)),
                    Catch::Contains("cannot reach the master at 127.0.0.1"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("a port in use fails at once", "[distributed]") {
  int port = 0;
  const int fd = bound_loopback_socket(true, port);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(Distributed(rank_env(0, port), "gloo", torch::kCPU, std::chrono::seconds(5)),
                    Catch::Contains("rank 0 of 2: cannot serve the rendezvous at 127.0.0.1"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  ::close(fd);
}

TEST_CASE("two ranks train to equal weights", "[distributed]") {
  const fs::path dir = testing::fresh_dir("dist-equal");
  const int port = free_port();
  const auto [ok0, status1] = two_ranks([&](int rank) {
    std::ostringstream progress;
    Distributed d(rank_env(rank, port), "gloo", torch::kCPU, std::chrono::seconds(20));
    Trainer trainer(parse_config(kConfig, "dist_test.yaml"), dir.string(), progress);
    RunControl control;
    control.distributed = &d;
    const TrainResult r = trainer.run(control);
    return r.env_steps == 2048;
  });
  REQUIRE(ok0);
  REQUIRE(status1 == 0);
  // Steps are counted over both ranks: 4 envs x 32 steps x 2 ranks per update.
  CHECK(read_checkpoint_info((dir / "checkpoints" / "last.pt").string()).env_steps == 2048);
  const auto a = testing::weights_of(dir / "checkpoints" / "last.pt", kConfig);
  const auto b = testing::weights_of(dir / "checkpoints" / "rank_1.pt", kConfig);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
  CHECK(fs::exists(dir / "metrics.csv"));
  CHECK(fs::exists(dir / "summary.yaml"));
  fs::remove_all(dir);
}

TEST_CASE("two ranks resume exactly", "[distributed]") {
  const fs::path whole = testing::fresh_dir("dist-whole"), parts = testing::fresh_dir("dist-parts");
  auto run = [&](const fs::path& dir, RunControl control) {
    const int port = free_port();
    return two_ranks([&, control](int rank) mutable {
      std::ostringstream progress;
      Distributed d(rank_env(rank, port), "gloo", torch::kCPU, std::chrono::seconds(20));
      Trainer trainer(parse_config(kConfig, "dist_test.yaml"), dir.string(), progress);
      control.distributed = &d;
      trainer.run(control);
      return true;
    });
  };
  REQUIRE(run(whole, {}) == std::make_pair(true, 0));
  RunControl stop;
  stop.stop_after_steps = 1024;
  REQUIRE(run(parts, stop) == std::make_pair(true, 0));
  RunControl resume;
  resume.resume = true;
  REQUIRE(run(parts, resume) == std::make_pair(true, 0));
  const auto a = testing::weights_of(whole / "checkpoints" / "last.pt", kConfig);
  const auto b = testing::weights_of(parts / "checkpoints" / "last.pt", kConfig);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
  fs::remove_all(whole);
  fs::remove_all(parts);
}

TEST_CASE("a dead rank fails the other", "[distributed]") {
  const fs::path dir = testing::fresh_dir("dist-dead");
  const int port = free_port();
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  const auto [ok0, status1] = two_ranks([&](int rank) {
    std::ostringstream progress;
    Distributed d(rank_env(rank, port), "gloo", torch::kCPU, std::chrono::seconds(10));
    Trainer trainer(parse_config(kConfig, "dist_test.yaml"), dir.string(), progress);
    RunControl control;
    control.distributed = &d;
    if (rank == 1) control.callbacks.push_back(std::make_shared<ExitAfterIterations>(2));
    try {
      trainer.run(control);
    } catch (const std::exception& e) {
      error = e.what();
      return false;
    }
    return true;
  });
  CHECK_FALSE(ok0);
  CHECK(status1 == 3);
  CHECK_THAT(error, Catch::Contains("rank 0 of 2") && Catch::Contains("another rank exited"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(60));
  fs::remove_all(dir);
}

TEST_CASE("a rank that stops answering fails the other's direct all-reduce in time", "[distributed]") {
  for (const char* busy_poll : {"0", "1"}) {
    ::setenv("RLFORGE_BUSY_POLL", busy_poll, 1);
    const int port = free_port();
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    const auto [ok0, status1] = two_ranks([&](int rank) {
      Distributed d(rank_env(rank, port), "gloo", torch::kCPU, std::chrono::seconds(2));
      torch::Tensor g = torch::ones({1000});
      const auto reduce = d.sum_reducer(g);
      reduce();
      if (rank == 1) {
        std::this_thread::sleep_for(std::chrono::seconds(6));  // alive, but silent
        return true;
      }
      try {
        reduce();
      } catch (const std::exception& e) {
        error = e.what();
        return false;
      }
      return true;
    });
    CHECK_FALSE(ok0);
    CHECK(status1 == 0);
    CHECK_THAT(error, Catch::Contains("rank 0 of 2: all-reduce failed") && Catch::Contains("within 2 s"));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(15));
  }
  ::unsetenv("RLFORGE_BUSY_POLL");
}

TEST_CASE("dqn refuses several ranks", "[distributed]") {
  CHECK_THAT(replay_one_process_message("dqn", 2), Catch::StartsWith("dqn runs in one process: "));
}
