#pragma once
// A fixed set of worker threads that run one task per call, with the caller as worker 0.
//
// Created once per vector env; run() allocates nothing. Workers spin briefly between calls (a
// vector env steps every few microseconds while collecting) and then sleep on a condition
// variable, so an idle pool does not hold cores while the learner trains.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace rlforge {

class WorkerPool {
 public:
  using Task = void (*)(void* context, int worker);

  // `workers` includes the calling thread, so workers - 1 threads are started.
  explicit WorkerPool(int workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int workers() const { return workers_; }
  // Runs task(context, w) for every w in [0, workers) and waits for all; rethrows the first
  // exception a worker raised.
  void run(Task task, void* context);

 private:
  void worker_loop(int worker);

  int workers_;
  std::vector<std::thread> threads_;
  std::vector<std::exception_ptr> errors_;
  Task task_ = nullptr;
  void* context_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace rlforge
