#pragma once
// A fixed set of worker threads that run one task per call, with the caller as worker 0.
//
// Waiting threads (workers for the next task, the caller for the workers) spin for up to 200 us
// and then sleep on a condition variable; with more threads than cores they sleep at once.
// run_ranges() splits [0, count) into one contiguous block per worker. Each worker takes its own
// block in chunks from the front and, when done, takes chunks from the back of the others'. The
// shares are equal when cores are equally fast; when one core is slower (a busy neighbour on a
// shared machine, as seen here), the faster one finishes the work instead of waiting, and the
// items it takes over are the same from call to call, so they stay in its cache. Which thread
// runs an item never changes what the item computes, so results do not depend on the scheduling.
//
// Created once per vector env (and by the off-policy agents, to run their critics side by side);
// run() allocates nothing. Workers spin briefly between calls (a vector env steps every few
// microseconds while collecting) and then sleep, so an idle pool does not hold cores while the
// learner trains.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace rlforge {

class WorkerPool {
 public:
  using Task = void (*)(void* context, int worker);
  using RangeTask = void (*)(void* context, int begin, int end);

  // `workers` includes the calling thread, so workers - 1 threads are started. Throws
  // std::runtime_error (having stopped the threads already started) when one cannot start.
  explicit WorkerPool(int workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int workers() const { return workers_; }
  // Runs task(context, w) for every w in [0, workers) and waits for all; rethrows the first
  // exception a worker raised.
  void run(Task task, void* context);
  // Runs task(context, begin, end) over chunks covering [0, count) exactly once.
  void run_ranges(int count, RangeTask task, void* context);

 private:
  void worker_loop(int worker);
  void run_chunks(int worker);
  void stop_workers();
  void wait_for_workers();
  // Spins until done() or for the spin time; returns done().
  template <class Done>
  bool spin_until(Done done) const;


  int workers_;
  // The unclaimed part of a block: front index in the low 32 bits, back (exclusive) in the high.
  struct alignas(64) Block {
    std::atomic<uint64_t> range{0};
  };
  std::unique_ptr<Block[]> blocks_;
  // Takes a chunk from the front or the back of `block`; false when none is left.
  bool claim(Block& block, bool from_front, int& begin, int& end) const;
  int min_chunk_ = 1;
  RangeTask range_task_ = nullptr;
  void* range_context_ = nullptr;
  std::vector<std::thread> threads_;
  std::vector<std::exception_ptr> errors_;
  Task task_ = nullptr;
  void* context_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_waiting_{false};
  bool spin_ = true;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;  // workers: a new task
  std::condition_variable done_;  // caller: the workers have finished
};

}  // namespace rlforge
