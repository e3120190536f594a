#pragma once
// Data-parallel training over torch.distributed's c10d: a TCPStore for the rendezvous (rank 0
// serves it) and a Gloo process group for the collectives. The processes find each other
// through torchrun's variables MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE (LOCAL_RANK and
// LOCAL_WORLD_SIZE optional);
// `rlforge train --nproc N` sets them for N local processes.
//
// WORLD_SIZE unset or 1 means one process: no store, no process group, every collective a no-op.
// The c10d headers stay inside distributed.cpp (they pull in Gloo's).

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace rlforge {

struct DistributedEnv {
  std::string master_addr;
  int port = 0;
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  // Ranks on this machine (LOCAL_WORLD_SIZE; WORLD_SIZE when unset, the cautious guess). When
  // they fit on its cores, waiting ranks busy-poll their sockets in the gradient all-reduce.
  int local_world_size = 1;
};

// Reads and checks the variables through `lookup` (getenv by default); throws ConfigError with
// one line naming the variable and its value (not a number, RANK >= WORLD_SIZE, MASTER_ADDR
// missing when WORLD_SIZE > 1, port out of range).
DistributedEnv read_distributed_env(const std::function<const char*(const char*)>& lookup = {});

// Whether waiting ranks busy-poll in sum_reducer: RLFORGE_BUSY_POLL=0|1 (read through
// `lookup`) decides, else yes when local_world_size <= the machine's hardware threads.
bool busy_poll_sockets(const DistributedEnv& env, const std::function<const char*(const char*)>& lookup = {});

// Whether this build has the Gloo process group (libgloo-dev's headers were found).
bool distributed_supported();

// Why DQN refuses WORLD_SIZE > 1: "dqn runs in one process: ...".
std::string replay_one_process_message(const std::string& algo, int world_size);

class Distributed {
 public:
  // One process (world_size 1): nothing is created. Otherwise rendezvous through the store and
  // build the process group; `backend` is "gloo" or "nccl" (nccl only with a CUDA `device`).
  // Fails with a clear error within `timeout` when the master is unreachable or its port taken;
  // a collective that waits longer than `timeout` (a rank died) fails the same way.
  Distributed(const DistributedEnv& env, const std::string& backend, torch::Device device,
              std::chrono::seconds timeout);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool active() const { return env_.world_size > 1; }
  bool lead() const { return env_.rank == 0; }

  // In place, on every rank; no-ops in one process.
  void broadcast(torch::Tensor& tensor);  // rank 0's values everywhere
  void allreduce_sum(torch::Tensor& tensor);
  void allreduce_mean(torch::Tensor& tensor);
  void barrier();

  // A summing all-reduce of one long-lived buffer, run on the calling thread by Gloo's ring
  // algorithm over blocking sockets of its own: about 40 us for 10k floats on loopback, against
  // about 2 ms through the process group, whose worker and event-loop threads each wait for a
  // time slice. For the per-minibatch gradient. The buffer must stay allocated while the reducer
  // lives; every rank must create its reducers in the same order (they claim Gloo slots). A
  // buffer that is not contiguous float32 on the CPU falls back to allreduce_sum. A no-op in one
  // process.
  std::function<void()> sum_reducer(torch::Tensor buffer);
  // Rank 0's `value` on every rank (through the store).
  std::string share(const std::string& key, const std::string& value);

 private:
  struct Group;
  DistributedEnv env_;
  std::chrono::seconds timeout_;
  std::unique_ptr<Group> group_;
};

}  // namespace rlforge
