#include "rlforge/trainers/distributed.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "rlforge/trainers/config.h"
#include "torch_errors.h"

// Gloo comes with libgloo-dev (trainers/CMakeLists.txt defines RLFORGE_HAVE_GLOO when it is
// found); without it this build runs in one process only.
#ifdef RLFORGE_HAVE_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <gloo/allreduce_ring.h>
#include <gloo/transport/buffer.h>
#include <gloo/rendezvous/context.h>
#include <gloo/transport/tcp/device.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace rlforge {

namespace {

long parse_number(const char* name, const char* text) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || end == nullptr || *end != '\0' || errno != 0) {
    throw ConfigError(std::string(name) + "='" + text + "' is not a whole number");
  }
  return v;
}

}  // namespace

DistributedEnv read_distributed_env(const std::function<const char*(const char*)>& lookup) {
  auto get = [&](const char* name) -> const char* { return lookup ? lookup(name) : std::getenv(name); };
  DistributedEnv env;
  const char* world = get("WORLD_SIZE");
  if (world == nullptr || *world == '\0') return env;
  const long world_size = parse_number("WORLD_SIZE", world);
  if (world_size < 1 || world_size > 65536) {
    throw ConfigError(std::string("WORLD_SIZE=") + world + " is out of range; expected 1 to 65536");
  }
  env.world_size = static_cast<int>(world_size);
  const char* rank = get("RANK");
  if (rank != nullptr && *rank != '\0') {
    const long r = parse_number("RANK", rank);
    if (r < 0 || r >= world_size) {
      throw ConfigError(std::string("RANK=") + rank + " is out of range for WORLD_SIZE=" + world + "; expected 0 to " +
                        std::to_string(world_size - 1));
    }
    env.rank = static_cast<int>(r);
  } else if (world_size > 1) {
    throw ConfigError(std::string("RANK is not set (WORLD_SIZE=") + world + "); expected 0 to " +
                      std::to_string(world_size - 1));
  }
  if (const char* local = get("LOCAL_RANK"); local != nullptr && *local != '\0') {
    const long l = parse_number("LOCAL_RANK", local);
    if (l < 0) throw ConfigError(std::string("LOCAL_RANK=") + local + " must be >= 0");
    env.local_rank = static_cast<int>(l);
  }
  env.local_world_size = env.world_size;
  if (const char* local = get("LOCAL_WORLD_SIZE"); local != nullptr && *local != '\0') {
    const long l = parse_number("LOCAL_WORLD_SIZE", local);
    if (l < 1 || l > world_size) {
      throw ConfigError(std::string("LOCAL_WORLD_SIZE=") + local + " is out of range for WORLD_SIZE=" + world +
                        "; expected 1 to " + std::to_string(world_size));
    }
    env.local_world_size = static_cast<int>(l);
  }
  if (world_size == 1) return env;
  const char* addr = get("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0') {
    throw ConfigError(std::string("MASTER_ADDR is not set (WORLD_SIZE=") + world + "); set it to rank 0's host");
  }
  env.master_addr = addr;
  const char* port = get("MASTER_PORT");
  if (port == nullptr || *port == '\0') {
    throw ConfigError(std::string("MASTER_PORT is not set (WORLD_SIZE=") + world + "); set it to a free TCP port");
  }
  const long p = parse_number("MASTER_PORT", port);
  if (p < 1 || p > 65535) throw ConfigError(std::string("MASTER_PORT=") + port + " is out of range; expected 1 to 65535");
  env.port = static_cast<int>(p);
  return env;
}

bool busy_poll_sockets(const DistributedEnv& env, const std::function<const char*(const char*)>& lookup) {
  const char* forced = lookup ? lookup("RLFORGE_BUSY_POLL") : std::getenv("RLFORGE_BUSY_POLL");
  if (forced != nullptr && *forced != '\0') {
    const std::string v = forced;
    if (v == "1") return true;
    if (v == "0") return false;
    throw ConfigError("RLFORGE_BUSY_POLL='" + v + "' must be 0 or 1");
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 && static_cast<unsigned>(env.local_world_size) <= cores;
}

std::string replay_one_process_message(const std::string& algo, int world_size) {
  return algo + " runs in one process: its replay buffer and the gradient steps drawn from it are not split "
         "across ranks (WORLD_SIZE=" + std::to_string(world_size) + "); train it without --nproc or torchrun, or use ppo";
}

namespace {

// The same checks whether or not this build has Gloo.
void check_backend(const std::string& backend, const torch::Device& device) {
  if (backend != "gloo" && backend != "nccl") {
    throw ConfigError("run.backend: '" + backend + "' is not a backend; expected gloo or nccl");
  }
  if (backend == "nccl" && !device.is_cuda()) {
    throw ConfigError("run.backend: nccl needs a CUDA device (run.device is " + device.str() + "); use gloo on the CPU");
  }
}

}  // namespace

#ifdef RLFORGE_HAVE_GLOO

bool distributed_supported() { return true; }

struct Distributed::Group {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  // Blocking pairs for sum_reducer, connected on first use through the same store.
  std::shared_ptr<gloo::rendezvous::Context> direct;
  std::shared_ptr<gloo::transport::Device> device;
};

Distributed::Distributed(const DistributedEnv& env, const std::string& backend, torch::Device device,
                         std::chrono::seconds timeout)
    : env_(env), timeout_(timeout) {
  check_backend(backend, device);
  if (!active()) return;
  if (backend == "nccl") {
    throw ConfigError("run.backend: nccl is not available in this LibTorch build (CPU only); use gloo");
  }
  const std::string where = "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": ";
  group_ = std::make_unique<Group>();
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.port);
    options.isServer = env.rank == 0;
    options.numWorkers = static_cast<std::size_t>(env.world_size);
    options.waitWorkers = false;
    options.timeout = timeout;
    group_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    throw std::runtime_error(where + (env.rank == 0 ? "cannot serve the rendezvous at " : "cannot reach the master at ") +
                             env.master_addr + ":" + std::to_string(env.port) + " within " +
                             std::to_string(timeout.count()) + " s (" + first_line(e) + ")");
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 1;
    group_->device = options->devices.front();
    group_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    throw std::runtime_error(where + "cannot form the Gloo process group within " + std::to_string(timeout.count()) +
                             " s (" + first_line(e) + ")");
  }
}

Distributed::~Distributed() = default;

namespace {
template <typename F>
void collective(const std::string& what, const DistributedEnv& env, std::chrono::seconds timeout, F&& f) {
  try {
    f()->wait();
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": " +
                             what + " failed: another rank exited or did not answer within " +
                             std::to_string(timeout.count()) + " s (" + first_line(e) + ")");
  }
}
}  // namespace

void Distributed::broadcast(torch::Tensor& tensor) {
  if (!active()) return;
  std::vector<at::Tensor> t{tensor};
  collective("broadcast", env_, timeout_, [&] { return group_->group->broadcast(t); });
}

void Distributed::allreduce_sum(torch::Tensor& tensor) {
  if (!active()) return;
  std::vector<at::Tensor> t{tensor};
  collective("all-reduce", env_, timeout_, [&] { return group_->group->allreduce(t); });
}

void Distributed::allreduce_mean(torch::Tensor& tensor) {
  if (!active()) return;
  allreduce_sum(tensor);
  tensor.div_(env_.world_size);
}

void Distributed::barrier() {
  if (!active()) return;
  collective("barrier", env_, timeout_, [&] { return group_->group->barrier(); });
}

namespace {

// Up to this many bytes sent per rank, sum_reducer sends the whole buffer to every other rank
// (one step of latency) instead of running the ring (2 (N - 1) steps): 23 against 31 us for 10k
// floats on two ranks here. Larger buffers (CNNs) take the bandwidth-optimal ring.
constexpr std::size_t kExchangeBytes = 1 << 20;

// Every rank sends its buffer to every other one over Gloo's pairs and adds them all up in rank
// order, so every rank computes the same sum bit for bit.
class ExchangeAllreduce {
 public:
  ExchangeAllreduce(gloo::Context& context, float* data, int64_t count)
      : data_(data), count_(count), rank_(context.rank), received_(static_cast<std::size_t>(context.size)) {
    const int slot = context.nextSlot();
    const std::size_t bytes = static_cast<std::size_t>(count) * sizeof(float);
    for (int r = 0; r < context.size; ++r) {
      if (r == rank_) continue;
      received_[static_cast<std::size_t>(r)].resize(static_cast<std::size_t>(count));
      sends_.push_back(context.getPair(r)->createSendBuffer(slot, data, bytes));
      receives_.push_back(context.getPair(r)->createRecvBuffer(slot, received_[static_cast<std::size_t>(r)].data(), bytes));
    }
  }

  void run() {
    for (auto& send : sends_) send->send();
    for (auto& receive : receives_) receive->waitRecv();
    for (auto& send : sends_) send->waitSend();
    // The own buffer is rank_'s term; a copy keeps the order of the terms the same everywhere.
    received_[static_cast<std::size_t>(rank_)].assign(data_, data_ + count_);
    std::copy(received_[0].begin(), received_[0].end(), data_);
    for (std::size_t r = 1; r < received_.size(); ++r) {
      const float* term = received_[r].data();
      for (int64_t i = 0; i < count_; ++i) data_[i] += term[i];
    }
  }

 private:
  float* data_;
  int64_t count_;
  int rank_;
  std::vector<std::vector<float>> received_;  // one per rank, the own one a copy
  std::vector<std::unique_ptr<gloo::transport::Buffer>> sends_, receives_;
};

}  // namespace

std::function<void()> Distributed::sum_reducer(torch::Tensor buffer) {
  if (!active()) return [] {};
  if (!buffer.device().is_cpu() || buffer.scalar_type() != torch::kFloat32 || !buffer.is_contiguous()) {
    return [this, buffer]() mutable { allreduce_sum(buffer); };
  }
  const std::string where = "rank " + std::to_string(env_.rank) + " of " + std::to_string(env_.world_size) + ": ";
  if (group_->direct == nullptr) {
    try {
      auto context = std::make_shared<gloo::rendezvous::Context>(env_.rank, env_.world_size);
      context->setTimeout(std::chrono::milliseconds(timeout_));
      c10d::ProcessGroupGloo::GlooStore store(c10::make_intrusive<c10d::PrefixStore>("rlforge/direct", group_->store));
      context->connectFullMesh(store, group_->device);
      // Receives run on the calling thread instead of the device's event loop. Busy-polling cuts
      // the wake-up of a rank that waits for a slower one (200 to 80 us per minibatch on two
      // ranks here) but steals the core of a rank that shares it, hence only when they fit.
      const bool busy_poll = busy_poll_sockets(env_);
      for (int r = 0; r < env_.world_size; ++r) {
        if (r != env_.rank) context->getPair(r)->setSync(/*sync=*/true, busy_poll);
      }
      group_->direct = std::move(context);
    } catch (const std::exception& e) {
      throw std::runtime_error(where + "cannot connect the direct all-reduce within " +
                               std::to_string(timeout_.count()) + " s (" + first_line(e) + ")");
    }
  }
  std::function<void()> run;
  const std::size_t bytes = static_cast<std::size_t>(buffer.numel()) * sizeof(float);
  if (static_cast<std::size_t>(env_.world_size - 1) * bytes <= kExchangeBytes) {
    auto exchange = std::make_shared<ExchangeAllreduce>(*group_->direct, buffer.data_ptr<float>(), buffer.numel());
    run = [exchange] { exchange->run(); };
  } else {
    auto ring = std::make_shared<gloo::AllreduceRing<float>>(
        group_->direct, std::vector<float*>{buffer.data_ptr<float>()}, static_cast<int>(buffer.numel()));
    run = [ring] { ring->run(); };
  }
  return [run, buffer, where, timeout = timeout_] {
    try {
      run();
    } catch (const std::exception& e) {
      throw std::runtime_error(where + "all-reduce failed: another rank exited or did not answer within " +
                               std::to_string(timeout.count()) + " s (" + first_line(e) + ")");
    }
  };
}

std::string Distributed::share(const std::string& key, const std::string& value) {
  if (!active()) return value;
  const std::string name = "rlforge/" + key;
  try {
    if (lead()) {
      group_->store->set(name, std::vector<uint8_t>(value.begin(), value.end()));
      return value;
    }
    const std::vector<uint8_t> v = group_->store->get(name);
    return std::string(v.begin(), v.end());
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env_.rank) + ": cannot read '" + key + "' from rank 0 within " +
                             std::to_string(timeout_.count()) + " s (" + first_line(e) + ")");
  }
}

#else  // no Gloo headers at build time

bool distributed_supported() { return false; }

struct Distributed::Group {};

Distributed::Distributed(const DistributedEnv& env, const std::string& backend, torch::Device device,
                         std::chrono::seconds timeout)
    : env_(env), timeout_(timeout) {
  check_backend(backend, device);
  if (active()) {
    throw ConfigError("WORLD_SIZE=" + std::to_string(env.world_size) +
                      ": this rlforge was built without Gloo (install libgloo-dev and rebuild) and runs in one process only");
  }
}
Distributed::~Distributed() = default;
void Distributed::broadcast(torch::Tensor&) {}
void Distributed::allreduce_sum(torch::Tensor&) {}
void Distributed::allreduce_mean(torch::Tensor&) {}
void Distributed::barrier() {}
std::function<void()> Distributed::sum_reducer(torch::Tensor) { return [] {}; }
std::string Distributed::share(const std::string&, const std::string& value) { return value; }

#endif

}  // namespace rlforge
