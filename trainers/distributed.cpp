#include "rlforge/trainers/distributed.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include "rlforge/trainers/config.h"

// Gloo's headers come with libgloo-dev; without them this build runs in one process only.
#if __has_include(<gloo/rendezvous/store.h>)
#define RLFORGE_HAVE_GLOO 1
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace rlforge {

namespace {

std::string first_line(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string what = c10 != nullptr ? c10->what_without_backtrace() : e.what();
  return what.substr(0, what.find('\n'));
}

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

std::string dqn_one_process_message(int world_size) {
  return "dqn runs in one process: its replay buffer and the gradient steps drawn from it are not split "
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
std::string Distributed::share(const std::string&, const std::string& value) { return value; }

#endif

}  // namespace rlforge
